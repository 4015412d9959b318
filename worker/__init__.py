"""funchost.worker."""
