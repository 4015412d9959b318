"""Azure Tables: the ``table`` input and output bindings."""

from funchost.bindings.table.binding import TABLE

__all__ = ["TABLE"]
