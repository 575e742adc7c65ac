"""Data-parallel training throughput: 1 process against 2 (``mpiexec -n 2``).

The 784-512-512-10 ReLU MLP of benchmarks/mlp.py (float32, cross-entropy, SGD momentum
0.9) in ``shendu.distributed.DistributedDataParallel``. One training step is forward,
backward (whose end allreduces the 669,706 gradients in one buffer) and the update.
Configurations, each its own launch, all on this machine:

- 1 process x 1 BLAS thread (the baseline);
- 2 processes x 1 thread (``mpiexec -n 2``): the data-parallel run;
- 1 process x 2 threads: the other way to use two cores, for comparison.

Two ways of scaling: ``weak``, 128 samples per process (the global batch grows with the
processes, as in most data-parallel training), and ``strong``, a global batch of 128
split over the processes. Throughput is global samples per second, from the median step
time (rank 0's; the ranks run in lockstep) over rounds of ~1 s after a 1 s warm-up. The
allreduce of the gradient buffer is also timed alone, to show what communication costs.

Run: python benchmarks/distributed.py [--quick] [--busy [N]]   (needs mpi4py + mpich)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

# The driver computes nothing; each launch below sets its own thread counts.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from _compare import machine_description  # noqa: E402  (thread counts before numpy)

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = "--quick" in sys.argv


def worker(per_process_batch, rounds):
    import numpy as np

    sys.path.insert(0, os.path.join(HERE, os.pardir))
    import shendu
    from shendu import distributed as dist, nn, optim

    world, rank = dist.get_world_size(), dist.get_rank()
    shendu.manual_seed(0)
    model = dist.DistributedDataParallel(nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(rank)
    x = shendu.tensor(rng.standard_normal((per_process_batch, 784)).astype(np.float32))
    y = shendu.tensor(rng.integers(0, 10, per_process_batch))

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    def timed_round(fn, seconds):
        """Median seconds per call over ``seconds``; every rank makes the same number of
        calls (rank 0's count, broadcast), or the collectives would not pair up."""
        dist.barrier()
        times, start = [], time.perf_counter()
        while True:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
            done = np.array([time.perf_counter() - start >= seconds and len(times) >= 3])
            if dist.broadcast(done, src=0)[0]:
                return float(np.median(times))

    timed_round(step, 1.0)  # warm-up: caches, page faults, OpenBLAS threads
    step_s = float(np.median([timed_round(step, 1.0) for _ in range(rounds)]))
    n_grads = sum(p.numel() for p in model.parameters())
    buf = np.zeros(n_grads + 6, np.float32)  # the gradients and one flag per parameter
    group = model.process_group
    comm_s = timed_round(lambda: group.allreduce_array(buf), 0.5) if world > 1 else 0.0
    if rank == 0:
        print("RESULT " + json.dumps({"world": world, "step_s": step_s, "comm_s": comm_s,
                                      "samples": per_process_batch * world,
                                      "grads": n_grads}), flush=True)


def mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(beside, os.X_OK):
        return beside
    import shutil
    return shutil.which("mpiexec")


def launch(processes, threads, per_process_batch, rounds):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "NUMBA_NUM_THREADS": str(threads),
           "SHENDU_NUM_THREADS": str(threads)}
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(per_process_batch),
           str(rounds)]
    if processes > 1:
        cmd = [mpiexec(), "-n", str(processes)] + cmd
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    line = next(s for s in out.stdout.splitlines() if s.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main():
    import importlib.util
    if importlib.util.find_spec("mpi4py") is None:
        raise SystemExit('benchmarks/distributed.py needs mpi4py and an MPI: '
                         'pip install "shendu[distributed]" (or pip install mpi4py mpich)')
    if mpiexec() is None:
        raise SystemExit("benchmarks/distributed.py: no mpiexec beside this Python or on PATH "
                         "(pip install mpich)")
    print(machine_description(), flush=True)
    print(f"MLP 784-512-512-10 float32 training step, DistributedDataParallel; "
          f"{os.cpu_count()} cores", flush=True)
    rounds = 3 if QUICK else 5
    ratios = {}
    for scaling, batch_of in (("weak", lambda p: 128), ("strong", lambda p: 128 // p)):
        base = None
        for processes, threads in ((1, 1), (2, 1), (1, 2)):
            r = launch(processes, threads, batch_of(processes), rounds)
            rate = r["samples"] / r["step_s"]
            base = base or rate
            comm = f"   allreduce {r['comm_s'] * 1e3:6.2f} ms" if processes > 1 else ""
            print(f"{scaling:<6} {processes} process(es) x {threads} thread(s), "
                  f"{batch_of(processes):3d} samples/process: step {r['step_s'] * 1e3:7.2f} ms  "
                  f"{rate:8.0f} samples/s  x{rate / base:4.2f}{comm}", flush=True)
            ratios[(scaling, processes, threads)] = rate / base
    print(f"throughput 2 processes / 1 process: weak scaling x{ratios[('weak', 2, 1)]:.2f}, "
          f"strong scaling x{ratios[('strong', 2, 1)]:.2f} (2 threads in 1 process: "
          f"x{ratios[('weak', 1, 2)]:.2f} / x{ratios[('strong', 1, 2)]:.2f})")


if __name__ == "__main__":
    if "--worker" in sys.argv:
        i = sys.argv.index("--worker")
        worker(int(sys.argv[i + 1]), int(sys.argv[i + 2]))
    else:
        main()
