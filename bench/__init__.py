"""funchost benchmarks: every subject beside its anchor in the same run (`python -m bench`)."""
