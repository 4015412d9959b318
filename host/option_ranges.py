"""Numbers on the command line and in FUNCHOST_* variables, checked against their range.

A value out of range is a usage error naming the option (or variable), the value and the
range, as host.json values are refused: ``--port 70000`` must not bind 70000 mod 65536.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from funchost.errors import ConfigError

Number = TypeVar("Number", int, float)


@dataclass(frozen=True)
class Ranged(Generic[Number]):
    """An argparse ``type`` for a number from ``low`` to ``high`` (None: no top)."""

    kind: Callable[[str], Number]
    low: Number
    high: Number | None
    expected: str  # the range in words, as the error shows it

    def __call__(self, raw: str) -> Number:
        """The number; ArgumentTypeError (argparse's usage error) naming value and range."""
        try:
            value = self.kind(raw.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not {self.expected}") from None
        if not math.isfinite(value) or value < self.low:
            raise argparse.ArgumentTypeError(f"{raw} is out of range; expected {self.expected}")
        if self.high is not None and value > self.high:
            raise argparse.ArgumentTypeError(f"{raw} is out of range; expected {self.expected}")
        return value

    def env(self, name: str) -> Number | None:
        """The variable's value through the same check; ConfigError (a usage error) naming it."""
        raw = os.environ.get(name, "").strip()
        if not raw:
            return None
        try:
            return self(raw)
        except argparse.ArgumentTypeError:
            raise ConfigError("environment", name, raw, self.expected) from None


def add_ranged(
    parser: argparse.ArgumentParser,
    option: str,
    ranged: Ranged[Number],
    env: str,
    text: str,
    *,
    metavar: str | None = None,
    default: Number | None = None,
) -> None:
    """An option checked by ``ranged``, defaulting to its variable ``env`` (then ``default``)."""
    from_env = ranged.env(env)
    parser.add_argument(
        option,
        type=ranged,
        metavar=metavar,
        default=default if from_env is None else from_env,
        help=f"{text} [env: {env}]",
    )


PORT = Ranged(int, 0, 65535, "0 (any free port) or 1-65535")
SECONDS = Ranged(float, 0.0, None, "a number of seconds, 0 or more")
COUNT = Ranged(int, 1, None, "a whole number, 1 or more")
