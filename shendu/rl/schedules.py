"""Schedules for exploration rates and step sizes: ``schedule(t)`` gives the value at step t.

>>> from shendu.rl.schedules import LinearSchedule, ExponentialSchedule
>>> eps = LinearSchedule(1.0, 0.05, duration=100)
>>> eps(0), eps(50), eps(1000)
(1.0, 0.525, 0.05)
>>> round(ExponentialSchedule(1.0, 0.01, decay=0.5)(3), 3)
0.125
"""
from __future__ import annotations

import math

__all__ = ["ConstantSchedule", "LinearSchedule", "ExponentialSchedule", "as_schedule"]


class ConstantSchedule:
    """The same value at every step."""

    def __init__(self, value):
        self.value = float(value)

    def __call__(self, t):
        return self.value

    def __repr__(self):
        return f"ConstantSchedule({self.value})"


class LinearSchedule:
    """``start`` at t = 0, falling (or rising) linearly to ``end`` at t = ``duration``,
    then ``end``: value(t) = start + min(t / duration, 1) * (end - start)."""

    def __init__(self, start, end, duration):
        if duration <= 0:
            raise ValueError(f"LinearSchedule: duration must be positive, got {duration!r}")
        self.start, self.end, self.duration = float(start), float(end), float(duration)

    def __call__(self, t):
        frac = max(t, 0) / self.duration
        if frac >= 1.0:
            return self.end
        return self.start + frac * (self.end - self.start)

    def __repr__(self):
        return f"LinearSchedule({self.start}, {self.end}, duration={self.duration:g})"


class ExponentialSchedule:
    """value(t) = max(end, start * decay ** t): epsilon *= decay after every step/episode."""

    def __init__(self, start, end, decay):
        if not 0 < decay <= 1:
            raise ValueError(f"ExponentialSchedule: decay must be in (0, 1], got {decay!r}")
        self.start, self.end, self.decay = float(start), float(end), float(decay)

    def __call__(self, t):
        return max(self.end, self.start * math.exp(max(t, 0) * math.log(self.decay)))

    def __repr__(self):
        return f"ExponentialSchedule({self.start}, {self.end}, decay={self.decay})"


def as_schedule(value, name="value"):
    """A number becomes a ConstantSchedule; a callable is used as it is."""
    if callable(value):
        return value
    try:
        return ConstantSchedule(float(value))
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or a schedule (callable t -> value), "
                        f"got {value!r}") from None
