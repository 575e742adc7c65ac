"""Train small models data-parallel and save the final weights (run by test_distributed.py).

    mpiexec -n 2 python tests/_mpi_train_check.py --out DIR --expect-world 2
    python tests/_mpi_train_check.py --out DIR --expect-world 1

The same code runs in both cases; only the world size differs. A global batch of
``--batch`` samples is cut by ``DistributedSampler`` into one slice per rank, so the two
runs see the same global batches and must end with the same weights (up to rounding).
Each rank seeds its model differently (``manual_seed(rank)``): only the broadcast of rank
0's weights makes the replicas start equal. Three trainings, all float64:

- ``ddp``: an MLP in ``DistributedDataParallel``, Adam, one backward per step;
- ``accum``: the same with SGD (whose step, unlike Adam's, grows with the gradient, so a
  sum over the ranks instead of the mean would show), each step two micro-batches, the
  first under ``no_sync()``;
- ``keras``: a Keras ``Sequential`` fit on the rank's slice with ``DistributedCallback``
  (SGD as well).

Each rank writes ``DIR/rank<r>.npz``: the weights of the three models, the result of an
``all_reduce`` of ``rank + 1`` and of a ``broadcast`` from rank 1 (when there is one).
"""
from __future__ import annotations

import argparse
import os
import sys

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import shendu  # noqa: E402
from shendu import distributed as dist, keras, nn, optim  # noqa: E402
from shendu.data import DataLoader, TensorDataset  # noqa: E402
from shendu.data.distributed import DistributedSampler  # noqa: E402


def make_data(n=96, d=6, classes=3):
    rng = np.random.default_rng(1234)  # the same data on every rank
    x = rng.standard_normal((n, d))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1).astype(np.int64)
    return x, np.minimum(y, classes - 1)


def mlp(d, classes):
    shendu.manual_seed(dist.get_rank())  # a different start on every rank
    return nn.Sequential(nn.Linear(d, 16), nn.Tanh(), nn.Linear(16, classes))


def train_ddp(x, y, batch, epochs, accumulate):
    world = dist.get_world_size()
    model = dist.DistributedDataParallel(mlp(x.shape[1], 3))
    opt = optim.SGD(model.parameters(), lr=0.2, momentum=0.5) if accumulate else \
        optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.CrossEntropyLoss()
    sampler = DistributedSampler(TensorDataset(x, y), shuffle=True, seed=7)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch // world, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            opt.zero_grad()
            if accumulate:
                half = len(xb) // 2
                with model.no_sync():  # gradients stay local ...
                    (loss_fn(model(xb[:half]), yb[:half]) * 0.5).backward()
                # ... and this backward averages the sum of both micro-batches
                (loss_fn(model(xb[half:]), yb[half:]) * 0.5).backward()
            else:
                loss_fn(model(xb), yb).backward()
            opt.step()
    return {k: v.numpy() for k, v in model.module.state_dict().items()}


def train_keras(x, y, batch, epochs):
    world, rank = dist.get_world_size(), dist.get_rank()
    sampler = DistributedSampler(x, shuffle=False)
    mine = sampler.indices()  # rank r: samples r, r + W, r + 2W, ...
    shendu.manual_seed(rank)
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(8, activation="tanh"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.2, momentum=0.5),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[mine], y[mine], batch_size=batch // world, epochs=epochs,
                        shuffle=False, verbose=0, callbacks=[dist.DistributedCallback()])
    weights = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    weights["loss"] = np.array(history.history["loss"])
    return weights


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--expect-world", type=int, required=True)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    shendu.set_default_dtype(shendu.float64)
    world, rank = dist.get_world_size(), dist.get_rank()
    if world != args.expect_world:
        raise SystemExit(f"_mpi_train_check: expected a world of {args.expect_world} processes, "
                         f"got {world} (is mpiexec from the MPI that mpi4py was built with?)")
    x, y = make_data()
    result = {}
    for name, weights in (("ddp", train_ddp(x, y, args.batch, args.epochs, False)),
                          ("accum", train_ddp(x, y, args.batch, args.epochs, True)),
                          ("keras", train_keras(x, y, args.batch, args.epochs))):
        result.update({f"{name}/{k}": v for k, v in weights.items()})
    result["all_reduce"] = dist.all_reduce(np.array([rank + 1.0]))
    result["broadcast"] = dist.broadcast(np.array([10.0 * rank]), src=world - 1)
    os.makedirs(args.out, exist_ok=True)
    np.savez(os.path.join(args.out, f"rank{rank}.npz"), **result)
    dist.barrier()
    dist.main_print(f"_mpi_train_check: world {world} done")


if __name__ == "__main__":
    main()
