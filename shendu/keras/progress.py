"""The Keras 3 progress bar: ``469/469 ━━━━━━━━━━━━━━━━━━━━ 2s 4ms/step - loss: 0.0613``.

``Progbar`` draws it. Where the text goes decides how:

* a terminal or a notebook (``dynamic`` display): the line is redrawn in place with ``\\r``
  at most every ``interval`` seconds, with Keras's colours (ANSI codes), and ends with a
  newline when the epoch is done;
* anything else (a file, a pipe, a CI log): nothing is printed while the epoch runs; one
  clean line (no ``\\r``, no ANSI codes) is printed when it ends.

``verbose=2`` prints Keras's short form once per epoch: ``469/469 - 2s - 4ms/step - loss: ...``.

>>> import io
>>> out = io.StringIO()
>>> bar = Progbar(3, stream=out, dynamic=False)
>>> for step in range(1, 4):
...     bar.update(step, [("loss", 0.5)])
>>> "3/3 ━━━━━━━━━━━━━━━━━━━━" in out.getvalue()
True
"""
from __future__ import annotations

import math
import sys
import time

__all__ = ["Progbar", "is_dynamic", "format_value", "format_time_per_step"]

BAR = "━"
_BOLD, _GREEN, _GREY, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"


def is_dynamic(stream=None) -> bool:
    """True when ``stream`` (default ``sys.stdout``) is a terminal or a Jupyter notebook:
    the places where a line can be redrawn in place."""
    stream = sys.stdout if stream is None else stream
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):  # closed or unusual streams
        pass
    if "ipykernel" in sys.modules and stream is sys.stdout:
        return True
    return False


def format_value(value) -> str:
    """A metric as Keras prints it: 4 decimals, scientific notation below 1e-3."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v) or math.isinf(v):
        return str(v)
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def format_time_per_step(seconds, unit="step") -> str:
    """``4ms/step``, ``12us/step``, ``2s/step`` (Keras's rounding)."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def _format_eta(eta) -> str:
    if eta > 3600:
        return f"{int(eta // 3600)}:{int(eta % 3600) // 60:02d}:{int(eta % 60):02d}"
    if eta > 60:
        return f"{int(eta // 60)}:{int(eta % 60):02d}"
    return f"{eta:.0f}s"


class Progbar:
    """A progress bar over ``target`` steps, in Keras 3's format.

    Parameters
    ----------
    target : int or None
        The number of steps (``None`` when unknown: ``  12/Unknown``).
    width : int, default 20
        Characters of the bar.
    verbose : int, default 1
        1: the bar; 2: one short line when done; 0: nothing.
    stream : file, default ``sys.stdout`` at each write
    dynamic : bool, optional
        Redraw in place. Default: ``is_dynamic(stream)``.
    interval : float, default 0.05
        Least time between two redraws, in seconds.
    unit_name : str, default "step"
    """

    def __init__(self, target, width=20, verbose=1, stream=None, dynamic=None, interval=0.05,
                 unit_name="step"):
        self.target = None if target is None else int(target)
        self.width = int(width)
        self.verbose = verbose
        self._stream = stream
        self.dynamic = is_dynamic(self.stream) if dynamic is None else bool(dynamic)
        self.interval = float(interval)
        self.unit_name = unit_name
        self._values = {}
        self._start = time.perf_counter()
        self._time_after_first = None
        self._last_update = 0.0
        self._last_width = 0
        self._done = False

    @property
    def stream(self):
        return sys.stdout if self._stream is None else self._stream

    def _write(self, text):
        s = self.stream
        s.write(text)
        try:
            s.flush()
        except (AttributeError, ValueError):
            pass

    def _per_step(self, current, now):
        if not current:
            return 0.0
        if self._time_after_first is not None and current > 1:
            return (now - self._time_after_first) / (current - 1)
        return (now - self._start) / current

    def update(self, current, values=None, finalize=None):
        """Show step ``current`` with ``values`` (a dict or a list of ``(name, value)``:
        numbers already averaged, as the fit loop keeps running means)."""
        if values:
            items = values.items() if isinstance(values, dict) else values
            for k, v in items:
                self._values[k] = v
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        now = time.perf_counter()
        if current == 1 and self._time_after_first is None:
            self._time_after_first = now
        if self.verbose == 0 or self._done:
            return
        if self.verbose == 2:
            if finalize:
                self._write(self._short_line(current, now) + "\n")
                self._done = True
            return
        if not self.dynamic and not finalize:
            return  # a log file gets one clean line per epoch
        if not finalize and now - self._last_update < self.interval:
            return
        self._last_update = now
        line, visible = self._bar_line(current, now, finalize, colour=self.dynamic)
        if self.dynamic:
            pad = " " * max(0, self._last_width - visible)
            self._write("\r" + line + pad + ("\n" if finalize else ""))
        else:
            self._write(line + "\n")
        self._last_width = visible
        if finalize:
            self._done = True

    def _metrics(self):
        return "".join(f" - {k}: {format_value(v)}" for k, v in self._values.items())

    def _count(self, current):
        digits = int(math.log10(self.target)) + 1 if self.target and self.target > 0 else 1
        return f"{current:{digits}d}/{self.target}"

    def _bar_line(self, current, now, finalize, colour):
        if self.target is not None:
            count = self._count(current)
            frac = min(1.0, current / self.target) if self.target else 1.0
            done = int(self.width * frac)
            if colour:
                bar = (f"{_BOLD}{count}{_RESET} " + (f"{_GREEN}{BAR * done}{_RESET}" if done else "")
                       + f"{_GREY}{BAR * (self.width - done)}{_RESET}")
            else:
                bar = f"{count} " + BAR * done + " " * (self.width - done)
            plain_bar_len = len(count) + 1 + self.width
        else:
            bar = f"{current:7d}/Unknown"
            plain_bar_len = len(bar)
        per_step = self._per_step(current, now)
        if self.target is not None and not finalize:
            info = " " + _format_eta(per_step * (self.target - current))
        else:
            info = f" {now - self._start:.0f}s"
        info += " " + format_time_per_step(per_step, self.unit_name) + self._metrics()
        return bar + info, plain_bar_len + len(info)

    def _short_line(self, current, now):
        count = self._count(current) if self.target is not None else f"{current}"
        per_step = self._per_step(current, now)
        return (f"{count} - {now - self._start:.0f}s - "
                f"{format_time_per_step(per_step, self.unit_name)}{self._metrics()}")
