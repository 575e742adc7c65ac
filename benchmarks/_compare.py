"""Side-by-side timing of shendu and PyTorch in one process (STYLE.md "Measure fairly").

Rounds alternate between the two frameworks; after each switch the next one warms up
for at least ``warmup_s`` seconds (OpenBLAS and OpenMP threads busy-wait after a call
and slow the other library right after). Each round reports the median time per call;
the ratio is the median over rounds of shendu / PyTorch.

Import this module before numpy/torch: it pins the thread counts.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ["OMP_NUM_THREADS"])
os.environ.setdefault("MKL_NUM_THREADS", os.environ["OMP_NUM_THREADS"])

import statistics  # noqa: E402
import time  # noqa: E402


def _time_calls(fn, min_time):
    """Median seconds per call of ``fn`` over calls filling ``min_time`` seconds."""
    times = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start >= min_time and len(times) >= 3:
            return statistics.median(times)


def compare(name, ours, theirs, rounds=5, round_s=1.0, warmup_s=0.5, unit="ms"):
    """Time ``ours()`` (shendu) and ``theirs()`` (PyTorch) in alternating rounds and print
    one line with both medians and the ratio. Returns the ratio (shendu / PyTorch)."""
    scale = {"ms": 1e3, "us": 1e6}[unit]
    a_times, b_times = [], []
    for _ in range(rounds):
        for fn, out in ((ours, a_times), (theirs, b_times)):
            _time_calls(fn, warmup_s)  # warm up after the switch
            out.append(_time_calls(fn, round_s))
    a, b = statistics.median(a_times), statistics.median(b_times)
    ratio = a / b
    print(f"{name:<48} shendu {a * scale:9.3f} {unit}   torch {b * scale:9.3f} {unit}   "
          f"ratio {ratio:5.2f}", flush=True)
    return ratio


def training_steps(ours, theirs, opt_ours, opt_theirs, x_ours, y_ours, x_theirs, y_theirs):
    """Two closures, one training step each (zero_grad, forward, cross-entropy, backward,
    optimizer step): shendu's model ``ours`` and its PyTorch twin ``theirs`` (same
    weights). Their first steps must give the same loss, so both sides do the same work."""
    import shendu.nn.functional as F
    import torch

    def step_ours():
        opt_ours.zero_grad()
        loss = F.cross_entropy(ours(x_ours), y_ours)
        loss.backward()
        opt_ours.step()
        return loss

    def step_theirs():
        opt_theirs.zero_grad()
        loss = torch.nn.functional.cross_entropy(theirs(x_theirs), y_theirs)
        loss.backward()
        opt_theirs.step()
        return loss

    a, b = step_ours().item(), step_theirs().item()
    assert abs(a - b) < 1e-4, f"first losses differ: shendu {a}, torch {b}"
    return step_ours, step_theirs
