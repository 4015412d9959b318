"""Project-owned peers that stand in for Azure services in tests (see README.md)."""
