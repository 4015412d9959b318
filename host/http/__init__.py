"""funchost.host.http."""
