"""Timer: the ``timerTrigger`` (listener.py), its schedules, status and configuration."""

from funchost.bindings.timer.listener import TIMER_TRIGGER

__all__ = ["TIMER_TRIGGER"]
