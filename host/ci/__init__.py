"""CI mode: a ready file, ``funchost wait-ready``, ``funchost invoke`` and ``check --json``."""
