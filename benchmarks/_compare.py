"""Side-by-side timing of shendu and PyTorch in one process (STYLE.md "Measure fairly").

Rounds alternate between the two frameworks; after each switch the next one warms up
for at least ``warmup_s`` seconds (OpenBLAS and OpenMP threads busy-wait after a call
and slow the other library right after). Each round reports the median time per call;
the ratio is the median over rounds of shendu / PyTorch.

Import this module before numpy/torch: it pins the thread counts. The first comparison
prints the machine: CPU model, its widest SIMD level, NumPy's OpenBLAS kernel (what
threadpoolctl reports, e.g. Haswell or SkylakeX) and PyTorch's CPU capability, because
ratios differ between AVX2 and AVX-512 machines.

``--busy [N]`` on any benchmark's command line starts N (default 1) competing processes
that keep the cores busy with NumPy work for the whole run, as a shared laptop or a
notebook beside another job would: compare its ratios with the quiet ones.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ["OMP_NUM_THREADS"])
os.environ.setdefault("MKL_NUM_THREADS", os.environ["OMP_NUM_THREADS"])

import atexit  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

_described = False


def _cpu_model_and_simd():
    model, flags = platform.processor() or "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("", "unknown CPU", "x86_64"):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    for level, flag in (("AVX-512", "avx512f"), ("AVX2", "avx2"), ("AVX", "avx"),
                        ("SSE4.2", "sse4_2")):
        if flag in flags:
            return model, level
    return model, "unknown SIMD"


def machine_description():
    """One line: CPU model and SIMD level, NumPy's BLAS and kernel, torch's capability,
    thread counts, and whether competing processes run (``--busy``)."""
    model, simd = _cpu_model_and_simd()
    blas = "BLAS unknown (pip install threadpoolctl to see it)"
    try:
        from threadpoolctl import threadpool_info
        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            i = infos[0]
            blas = (f"NumPy BLAS {i.get('internal_api')} {i.get('version')} kernel "
                    f"{i.get('architecture', '?')} ({i.get('num_threads')} threads)")
    except ImportError:
        pass
    torch_cap = ""
    if "torch" in sys.modules:
        try:
            torch_cap = f" | torch CPU capability {sys.modules['torch'].backends.cpu.get_cpu_capability()}"
        except Exception:  # noqa: BLE001 - only a description
            pass
    core = os.environ.get("OPENBLAS_CORETYPE")
    pinned = f" | OPENBLAS_CORETYPE={core}" if core else ""
    busy = f" | busy: {len(_BUSY)} competing process(es)" if _BUSY else ""
    return (f"machine: {model}, {simd}, {os.cpu_count()} cores | {blas}{torch_cap}{pinned}"
            f" | OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}{busy}")


_SPIN = ("import numpy as np\n"
         "a = np.random.default_rng(0).standard_normal((256, 256))\n"
         "while True:\n"
         "    a = np.tanh(a @ a * 1e-3)\n")


def _start_busy(n):
    """``n`` competing processes, each single-threaded NumPy matrix products forever."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", _SPIN], env=env) for _ in range(n)]
    atexit.register(lambda: [p.kill() for p in procs])
    return procs


def _busy_count(argv):
    if "--busy" not in argv:
        return 0
    i = argv.index("--busy")
    return int(argv[i + 1]) if i + 1 < len(argv) and argv[i + 1].isdigit() else 1


_BUSY = _start_busy(_busy_count(sys.argv))


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
    global _described
    if not _described:
        print(machine_description(), flush=True)
        _described = True
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
