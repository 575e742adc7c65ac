"""shendu.distributed and DistributedSampler.

Three levels: the world of one process (what every plain ``python`` run gets); a world of
two in which the other rank is simulated by a ``ProcessGroup`` subclass (so the packing,
averaging and error paths of ``DistributedDataParallel`` run without MPI); and, when
mpi4py and mpiexec are installed, real ``mpiexec -n 2`` training compared with one
process (tests/_mpi_train_check.py).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import shendu
from shendu import distributed as dist, keras, nn
from shendu.data import DataLoader, TensorDataset
from shendu.data.distributed import DistributedSampler

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(autouse=True)
def _fresh_default_group():
    dist.destroy_process_group()
    yield
    dist.destroy_process_group()


# ------------------------------------------------------------------ a world of one
def test_single_process_world():
    assert not dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    assert dist.is_initialized()
    assert dist.is_main_process()
    dist.barrier()


def test_single_process_collectives_are_the_identity():
    t = shendu.tensor([1.0, -2.0, 3.0])
    for op in ("sum", "avg", "max", "min", "product", dist.ReduceOp.SUM):
        assert dist.all_reduce(t, op=op) is t
        np.testing.assert_array_equal(t.numpy(), [1.0, -2.0, 3.0])
    a = np.arange(6.0).reshape(2, 3)[:, ::2]  # not contiguous: reduced through a copy
    assert dist.all_reduce(a) is a
    np.testing.assert_array_equal(a, [[0.0, 2.0], [3.0, 5.0]])
    b = np.array([4, 5])
    assert dist.broadcast(b, src=0) is b
    np.testing.assert_array_equal(b, [4, 5])


def test_collective_errors():
    with pytest.raises(ValueError, match="op must be one of"):
        dist.all_reduce(np.ones(2), op="mean")
    with pytest.raises(TypeError, match="wrap a number as np.array"):
        dist.all_reduce(3.0)
    with pytest.raises(TypeError, match="needs a floating array"):
        dist.all_reduce(np.array([1, 2]), op="avg")
    with pytest.raises(ValueError, match=r"src must be a rank in 0\.\.0"):
        dist.broadcast(np.ones(2), src=1)
    frozen = np.ones(2)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        dist.all_reduce(frozen)


def test_init_process_group_options_and_errors():
    group = dist.init_process_group(backend="single")
    assert (group.backend, group.rank, group.size) == ("single", 0, 1)
    with pytest.raises(RuntimeError, match="already initialized"):
        dist.init_process_group()
    dist.destroy_process_group()
    with pytest.raises(ValueError, match="backend must be None, 'mpi' or 'single'"):
        dist.init_process_group(backend="nccl")
    with pytest.raises(TypeError, match="ProcessGroup"):
        dist.get_rank(group="world")


def test_missing_mpi4py(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now fails
    assert not dist.is_available()
    with pytest.raises(ImportError, match=r'pip install "shendu\[distributed\]"'):
        dist.init_process_group(backend="mpi")
    monkeypatch.delenv("PMI_SIZE", raising=False)
    monkeypatch.delenv("OMPI_COMM_WORLD_SIZE", raising=False)
    assert dist.init_process_group().size == 1  # the same script runs alone
    dist.destroy_process_group()
    monkeypatch.setenv("PMI_SIZE", "2")  # started by mpiexec -n 2, without mpi4py
    with pytest.raises(ImportError, match="one of 2 started by an MPI launcher"):
        dist.init_process_group()


def test_ddp_in_a_world_of_one_is_the_plain_module():
    shendu.manual_seed(0)
    plain = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    shendu.manual_seed(0)
    model = dist.DistributedDataParallel(
        nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double())
    assert model._reducer is None and "world_size=1" in repr(model)
    assert list(model.state_dict()) == ["module." + k for k in plain.state_dict()]
    x = shendu.tensor(np.random.default_rng(0).standard_normal((5, 3)))
    plain(x).pow(2).sum().backward()
    model(x).pow(2).sum().backward()
    for p, q in zip(plain.parameters(), model.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    model.sync_gradients()  # nothing to average with
    with model.no_sync():
        pass


def test_ddp_errors():
    with pytest.raises(TypeError, match="wraps an nn.Module, got function"):
        dist.DistributedDataParallel(lambda x: x)
    with pytest.raises(TypeError, match="already wrapped"):
        dist.DistributedDataParallel(dist.DistributedDataParallel(nn.Linear(2, 2)))


def test_rank_zero_helpers(tmp_path, capsys):
    dist.main_print("only once")
    assert capsys.readouterr().out == "only once\n"
    assert dist.rank_zero_only(lambda: 7)() == 7
    model = dist.DistributedDataParallel(nn.Linear(2, 3))
    dist.main_save(model, tmp_path / "m.safetensors")
    loaded = shendu.load(tmp_path / "m.safetensors")
    assert sorted(loaded) == ["bias", "weight"]  # the wrapper's "module." is gone
    np.testing.assert_array_equal(loaded["weight"].numpy(), model.module.weight._data)


# ------------------------------------------------------------------ a simulated second rank
class SimulatedPeer(dist.ProcessGroup):
    """This process as rank ``rank`` of a world of two; the other rank's contributions
    to an allreduce come from ``peer_allreduce(buf)``, its broadcasts from
    ``peer_broadcast(buf)``."""

    def __init__(self, rank=0, peer_allreduce=None, peer_broadcast=None):
        super().__init__(None)
        self.backend, self.rank, self.size = "simulated", rank, 2
        self.peer_allreduce, self.peer_broadcast = peer_allreduce, peer_broadcast
        self.calls = []

    def allreduce_array(self, buf, op="sum"):
        self.calls.append(("allreduce", buf.dtype, buf.size))
        other = np.asarray(self.peer_allreduce(buf), dtype=buf.dtype)
        if op == "max":
            np.maximum(buf, other, out=buf)
        else:
            buf += other
            if op == "avg":
                buf /= 2
        return buf

    def broadcast_array(self, buf, src=0):
        self.calls.append(("broadcast", buf.dtype, buf.size))
        if src != self.rank:
            buf[...] = self.peer_broadcast(buf)
        return buf

    def barrier(self):
        self.calls.append(("barrier",))


def mlp(seed):
    shendu.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()


def packed(model, extra=()):
    """The flat buffer a rank holding ``model``'s gradients sends: every gradient
    raveled, then one flag per parameter (1: this rank has a gradient)."""
    params = list(model.parameters()) + list(extra)
    grads = [p.grad.numpy().ravel() if p.grad is not None else np.zeros(p._data.size)
             for p in params]
    return np.concatenate(grads + [[float(p.grad is not None) for p in params]])


def flat_state(model, dtype, params=True):
    """What rank 0 broadcasts for ``dtype``: its parameters (at construction), then its
    buffers, of that dtype."""
    tensors = (list(model.parameters()) if params else []) + list(model.buffers())
    return np.concatenate([t._data.ravel() for t in tensors if t._data.dtype == dtype])


def batch(n=8, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3)), rng.integers(0, 2, n)


def loss_of(model, x, y):
    return nn.functional.cross_entropy(model(shendu.tensor(x)), shendu.tensor(y))


def test_ddp_starts_from_rank_zeros_weights_and_buffers():
    rank0 = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()
    rank0[1].running_mean._data[...] = 0.5
    group = SimulatedPeer(rank=1, peer_broadcast=lambda buf: flat_state(rank0, buf.dtype))
    shendu.manual_seed(99)  # a different start on this rank
    model = dist.DistributedDataParallel(
        nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double(), process_group=group)
    for dtype in (np.float64, np.int64):
        np.testing.assert_array_equal(flat_state(model.module, dtype), flat_state(rank0, dtype))
    # float64 parameters and buffers in one broadcast, the int64 counter in another
    assert [c[1] for c in group.calls] == [np.float64, np.int64]


def test_ddp_backward_averages_over_ranks_in_one_allreduce():
    """Rank 0 on the first half of a batch, the (simulated) peer on the second half:
    the averaged gradient is the full batch's (mean losses over equal halves)."""
    x, y = batch()
    full, peer = mlp(0), mlp(0)
    loss_of(full, x, y).backward()
    loss_of(peer, x[4:], y[4:]).backward()
    group = SimulatedPeer(peer_allreduce=lambda buf: packed(peer))
    model = dist.DistributedDataParallel(mlp(0), process_group=group)
    group.calls.clear()  # the broadcast of the weights
    loss_of(model, x[:4], y[:4]).backward()
    assert group.calls == [("allreduce", np.float64, 3 * 5 + 5 + 5 * 2 + 2 + 4)]
    for p, q in zip(full.parameters(), model.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_ddp_no_sync_accumulates_then_averages_everything():
    x, y = batch()
    full, peer = mlp(0), mlp(0)
    loss_of(full, x, y).backward()
    loss_of(peer, x[4:], y[4:]).backward()  # the peer's total over its two micro-batches
    group = SimulatedPeer(peer_allreduce=lambda buf: packed(peer))
    model = dist.DistributedDataParallel(mlp(0), process_group=group)
    group.calls.clear()  # the broadcast of the weights
    with model.no_sync():
        (loss_of(model, x[:2], y[:2]) * 0.5).backward()
    assert group.calls == []
    (loss_of(model, x[2:4], y[2:4]) * 0.5).backward()
    assert len(group.calls) == 1
    for p, q in zip(full.parameters(), model.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_ddp_unused_parameter_is_an_error_without_find_unused_parameters():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.head_a, self.head_b = nn.Linear(3, 4), nn.Linear(4, 1), nn.Linear(4, 1)

        def forward(self, x, head="a"):
            return (self.head_a if head == "a" else self.head_b)(self.body(x))

    x = shendu.tensor(np.ones((2, 3), np.float32))
    group = SimulatedPeer(peer_allreduce=lambda buf: np.zeros_like(buf))
    model = dist.DistributedDataParallel(TwoHeads(), process_group=group)
    group.calls.clear()
    model(x).sum().backward()
    assert group.calls == []  # head_b's gradient never came: nothing was averaged
    with pytest.raises(RuntimeError, match=r"no gradient to 2 parameter\(s\) \(head_b.weight, "
                                           r"head_b.bias\).*find_unused_parameters=True"):
        model(x)

    # the peer used head_b, this rank did not: head_b gets half the peer's gradient,
    # head_a half this rank's; a parameter no rank used would keep grad None
    peer = TwoHeads()
    (peer(x, "b").sum()).backward()
    group = SimulatedPeer(peer_allreduce=lambda buf: packed(peer))
    model = dist.DistributedDataParallel(TwoHeads(), find_unused_parameters=True,
                                         process_group=group)
    group.calls.clear()
    model(x, "a").sum().backward()
    assert len(group.calls) == 1
    np.testing.assert_allclose(model.module.head_b.weight.grad.numpy(),
                               peer.head_b.weight.grad.numpy() / 2, rtol=1e-6)
    assert peer.head_a.weight.grad is None and model.module.head_a.weight.grad is not None
    model(x, "a")  # no error: the reduction finished


def test_ddp_globally_unused_parameter_keeps_grad_none():
    class WithSpare(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.spare = nn.Linear(2, 1), nn.Linear(2, 1)

        def forward(self, x):
            return self.used(x)

    peer = WithSpare()
    peer(shendu.ones(1, 2)).sum().backward()
    model = dist.DistributedDataParallel(
        WithSpare(), find_unused_parameters=True,
        process_group=SimulatedPeer(peer_allreduce=lambda buf: packed(peer)))
    model(shendu.ones(1, 2)).sum().backward()
    assert model.module.spare.weight.grad is None and model.module.used.weight.grad is not None


def test_ddp_broadcasts_buffers_before_training_forwards_only():
    rank0 = nn.BatchNorm1d(2).double()
    rank0.running_var._data[...] = 4.0
    group = SimulatedPeer(rank=1, peer_broadcast=lambda buf: next(
        f for f in (flat_state(rank0, buf.dtype), flat_state(rank0, buf.dtype, params=False))
        if f.size == buf.size))
    model = dist.DistributedDataParallel(nn.BatchNorm1d(2).double(), process_group=group)
    group.calls.clear()
    model.eval()
    model(shendu.tensor(np.ones((3, 2))))
    assert group.calls == []
    model.train()
    model.module.running_var._data[...] = 9.0  # this rank's own statistics ...
    model(shendu.tensor(np.ones((3, 2))))     # ... replaced by rank 0's before the forward
    assert len([c for c in group.calls if c[0] == "broadcast"]) == 2  # float64, int64
    # rank 0's 4.0, then this batch's variance (0: constant inputs) at momentum 0.1
    np.testing.assert_allclose(model.module.running_var.numpy(), 4.0 * 0.9, rtol=1e-12)


def test_ddp_sync_gradients_by_hand_and_create_graph_error():
    x, y = batch()
    peer = mlp(0)
    loss_of(peer, x, y).backward()
    group = SimulatedPeer(peer_allreduce=lambda buf: packed(peer))
    model = dist.DistributedDataParallel(mlp(0), process_group=group)
    group.calls.clear()  # the broadcast of the weights
    with model.no_sync():
        loss_of(model, x, y).backward()
    for p in model.parameters():  # this rank's gradients doubled, the peer's as they are
        p.grad = p.grad * 3.0
    model.sync_gradients()
    for p, q in zip(peer.parameters(), model.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), 2.0 * p.grad.numpy(), rtol=1e-12)
    model.zero_grad()
    with pytest.raises(RuntimeError, match="create_graph=True"):
        loss_of(model, x, y).backward(create_graph=True)


def test_all_reduce_through_a_simulated_peer():
    group = SimulatedPeer(peer_allreduce=lambda buf: np.full_like(buf, 3.0))
    t = shendu.tensor([1.0, 5.0])
    version = t._version
    dist.all_reduce(t, group=group)
    np.testing.assert_array_equal(t.numpy(), [4.0, 8.0])
    assert t._version == version + 1  # an in-place change, seen by autograd's checks
    dist.all_reduce(t, op="max", group=group)
    np.testing.assert_array_equal(t.numpy(), [4.0, 8.0])
    dist.all_reduce(t, op="avg", group=group)
    np.testing.assert_array_equal(t.numpy(), [3.5, 5.5])


def keras_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_keras_callback_does_nothing_alone_and_checks_batch_counts():
    x, y = batch(8)
    shendu.manual_seed(0)
    alone = keras_model()
    h1 = alone.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    shendu.manual_seed(0)
    with_cb = keras_model()
    h2 = with_cb.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0,
                     callbacks=[dist.DistributedCallback()])
    assert h1.history == h2.history
    # a peer with 3 batches per epoch where this rank has 2: stopped before any step
    group = SimulatedPeer(peer_allreduce=lambda buf: np.array([3, -3]),
                          peer_broadcast=lambda buf: buf)
    with pytest.raises(ValueError, match=r"different numbers of batches per epoch \(2 to 3\)"):
        keras_model().fit(x, y, batch_size=4, verbose=0,
                          callbacks=[dist.DistributedCallback(process_group=group)])


def test_keras_callback_averages_metrics_over_ranks():
    cb = dist.DistributedCallback(process_group=SimulatedPeer(
        peer_allreduce=lambda buf: np.array([0.5, 3.0])))  # the peer's accuracy, loss
    logs = {"loss": 1.0, "accuracy": 0.25, "note": "text"}
    cb.on_epoch_end(0, logs)
    assert logs == {"loss": 2.0, "accuracy": 0.375, "note": "text"}


# ------------------------------------------------------------------ DistributedSampler
def slices(n, replicas, **kw):
    return [DistributedSampler(range(n), num_replicas=replicas, rank=r, **kw).indices()
            for r in range(replicas)]


@pytest.mark.parametrize("n,replicas", [(12, 3), (10, 4), (3, 5), (1, 2)])
def test_sampler_slices_are_disjoint_positions_of_one_padded_order(n, replicas):
    parts = slices(n, replicas, seed=3)
    per_rank = -(-n // replicas)
    assert [len(p) for p in parts] == [per_rank] * replicas
    order = np.empty(per_rank * replicas, np.int64)  # interleave back: rank r, r + R, ...
    for r, p in enumerate(parts):
        order[r::replicas] = p
    assert sorted(order[:n]) == list(range(n))  # a permutation of the data ...
    padding = order[n:]  # ... then its first indices again, to equal lengths
    np.testing.assert_array_equal(padding, np.resize(order[:n], len(padding)))


def test_sampler_drop_last_and_no_shuffle():
    parts = slices(10, 4, shuffle=False, drop_last=True)
    assert [p.tolist() for p in parts] == [[0, 4], [1, 5], [2, 6], [3, 7]]
    parts = slices(10, 4, shuffle=False)
    assert [p.tolist() for p in parts] == [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
    assert sorted(np.concatenate(slices(10, 5, drop_last=True)).tolist()) == list(range(10))


def test_sampler_set_epoch_changes_the_order_the_same_way_on_every_rank():
    samplers = [DistributedSampler(range(20), num_replicas=2, rank=r, seed=5) for r in (0, 1)]
    orders = []
    for epoch in (0, 1):
        for s in samplers:
            s.set_epoch(epoch)
        a, b = (s.indices() for s in samplers)
        assert not set(a) & set(b) and sorted(np.concatenate([a, b])) == list(range(20))
        orders.append(np.stack([a, b]))
    assert not np.array_equal(orders[0], orders[1])
    again = DistributedSampler(range(20), num_replicas=2, rank=1, seed=5)
    again.set_epoch(1)
    np.testing.assert_array_equal(list(again), orders[1][1])  # the same on a new process
    other_seed = DistributedSampler(range(20), num_replicas=2, rank=1, seed=6)
    other_seed.set_epoch(1)
    assert not np.array_equal(other_seed.indices(), orders[1][1])


def test_sampler_defaults_to_the_world_and_feeds_a_dataloader():
    x = np.arange(10.0).reshape(5, 2)
    sampler = DistributedSampler(TensorDataset(x, np.arange(5)), shuffle=False)
    assert (sampler.num_replicas, sampler.rank, len(sampler)) == (1, 0, 5)
    loader = DataLoader(TensorDataset(x, np.arange(5)), batch_size=2, sampler=sampler)
    assert [yb.tolist() for _, yb in loader] == [[0, 1], [2, 3], [4]]
    assert "num_replicas=1" in repr(sampler)


def test_sampler_errors():
    with pytest.raises(ValueError, match=r"rank must be in 0\.\.1 \(num_replicas=2\), got 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be an integer >= 1, got 0"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
    with pytest.raises(ValueError, match="epoch must be an integer >= 0"):
        DistributedSampler(range(4), num_replicas=1, rank=0).set_epoch(-1)
    with pytest.raises(TypeError, match="needs a dataset with a length, got generator"):
        DistributedSampler((i for i in range(3)), num_replicas=1, rank=0)


# ------------------------------------------------------------------ real MPI processes
def _mpiexec():
    """mpiexec beside this Python (the venv's MPICH wheel), else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.access(beside, os.X_OK) else shutil.which("mpiexec")


def _run(cmd, tmp_path):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "NUMBA_NUM_THREADS": "1", "SHENDU_NUM_THREADS": "1"}
    for name in ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"):
        env.pop(name, None)  # this pytest may itself run under a launcher
    try:
        proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=180)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(cmd)} did not finish in 180 s")
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_mpiexec_two_ranks_match_one_process(tmp_path):
    if not dist.is_available():
        pytest.skip(f"mpi4py is not installed ({dist.INSTALL_HINT})")
    mpiexec = _mpiexec()
    if mpiexec is None:
        pytest.skip("no mpiexec found beside this Python or on PATH (pip install mpich)")
    script = os.path.join(HERE, "_mpi_train_check.py")
    out = _run([sys.executable, script, "--out", str(tmp_path / "one"),
                "--expect-world", "1"], tmp_path)
    assert "world 1 done" in out
    out = _run([mpiexec, "-n", "2", sys.executable, "-m", "mpi4py", script,
                "--out", str(tmp_path / "two"), "--expect-world", "2"], tmp_path)
    assert out.count("world 2 done") == 1  # printed by rank 0 only
    one = np.load(tmp_path / "one" / "rank0.npz")
    r0, r1 = np.load(tmp_path / "two" / "rank0.npz"), np.load(tmp_path / "two" / "rank1.npz")
    weights = [k for k in one.files if "/" in k]
    assert {k.split("/")[0] for k in weights} == {"ddp", "accum", "keras"}
    for k in weights:
        # the replicas stay identical bit for bit (they started from different seeds)
        np.testing.assert_array_equal(r0[k], r1[k], err_msg=k)
        # float64: a mean over two halves differs from the mean over the batch by rounding
        np.testing.assert_allclose(r0[k], one[k], rtol=1e-9, atol=1e-12, err_msg=k)
    assert one["keras/loss"][-1] < one["keras/loss"][0]  # it did train
    np.testing.assert_array_equal(r0["all_reduce"], [3.0])  # 1 + 2
    np.testing.assert_array_equal(r0["broadcast"], [10.0])  # rank 1's value
    np.testing.assert_array_equal(r1["broadcast"], [10.0])
