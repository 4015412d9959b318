"""funchost: a pure-Python host for Azure Functions Python v2 apps."""

__version__ = "0.1.0"
