"""funchost.bindings."""
