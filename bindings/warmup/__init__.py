"""Warmup: the ``warmupTrigger``, run at start-up and on ``/admin/warmup``."""

from funchost.bindings.warmup.trigger import WARMUP_TRIGGER

__all__ = ["WARMUP_TRIGGER"]
