"""funchost.host."""
