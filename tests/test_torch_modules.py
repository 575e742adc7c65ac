"""PyTorch's module paths: torch.utils.data, torch.accelerator / torch.cuda,
torch.multiprocessing (Hogwild shared memory) and torch.nn.parallel."""
import io
import warnings

import numpy as np
import pytest

import shendu
from shendu import nn, optim


# ------------------------------------------------------------------ torch.utils.data
def test_utils_data_paths_resolve():
    import shendu.utils.data as data
    from shendu.utils.data import DataLoader
    from shendu.utils.data.sampler import SubsetRandomSampler
    assert DataLoader is shendu.data.DataLoader is shendu.utils.data.DataLoader
    assert SubsetRandomSampler is shendu.data.SubsetRandomSampler
    for name in ["Dataset", "TensorDataset", "random_split", "Subset", "ConcatDataset",
                 "IterableDataset", "Sampler", "SequentialSampler", "RandomSampler",
                 "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
                 "default_collate", "get_worker_info"]:
        assert getattr(data, name) is getattr(shendu.data, name), name
    assert data.get_worker_info() is None


def test_weighted_random_sampler():
    from shendu.data import DataLoader, TensorDataset, WeightedRandomSampler
    w = np.array([0.0, 1.0, 0.0, 3.0])
    s = WeightedRandomSampler(w, num_samples=8000, generator=0)
    counts = np.bincount(s.indices(), minlength=4)
    assert counts[0] == counts[2] == 0 and abs(counts[3] / 8000 - 0.75) < 0.03
    s = WeightedRandomSampler(w, num_samples=2, replacement=False, generator=1)
    assert sorted(s) == [1, 3]
    ds = TensorDataset(np.arange(4))
    ys = [int(v) for (yb,) in DataLoader(ds, batch_size=4, sampler=s) for v in yb]
    assert sorted(ys) == [1, 3]
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler(w, 3, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="num_samples"):
        WeightedRandomSampler([1.0], 0)


def test_batch_sampler():
    from shendu.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler
    b = BatchSampler(SequentialSampler(range(7)), 3, drop_last=False)
    assert list(b) == [[0, 1, 2], [3, 4, 5], [6]] and len(b) == 3
    b = BatchSampler(RandomSampler(range(7), generator=0), 3, drop_last=True)
    got = list(b)
    assert len(got) == len(b) == 2 and len(set(sum(got, []))) == 6
    with pytest.raises(TypeError, match="batch_sampler"):
        list(DataLoader(list(range(7)), sampler=b))
    with pytest.raises(ValueError, match="drop_last"):
        BatchSampler(range(3), 2, drop_last=1)


def test_iterable_and_chain_dataset():
    from shendu.data import ChainDataset, IterableDataset

    class Stream(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

    assert list(Stream(2) + Stream(3)) == [0, 1, 0, 1, 2]
    assert list(ChainDataset([Stream(2), range(3)])) == [0, 1, 0, 1, 2]
    with pytest.raises(TypeError, match="IterableDataset"):
        Stream(2)[0]
    with pytest.raises(TypeError, match="only chains iterables"):
        ChainDataset([3])


# ------------------------------------------------------------ accelerator and cuda
def test_accelerator_and_cuda_without_gpu_are_consistent():
    assert shendu.accelerator.is_available() == shendu.cuda.is_available() \
        == shendu.cuda_available()
    if shendu.cuda.is_available():
        dev = shendu.accelerator.current_accelerator()
        assert isinstance(dev, shendu.device) and dev.type == "cuda"
        assert shendu.accelerator.device_count() >= 1
        shendu.accelerator.synchronize()
        return
    assert shendu.accelerator.current_accelerator() is None
    assert shendu.accelerator.current_accelerator(check_available=True) is None
    assert shendu.accelerator.device_count() == shendu.cuda.device_count() == 0
    for fn in (shendu.accelerator.current_device_index, shendu.accelerator.synchronize,
               shendu.cuda.synchronize, shendu.cuda.current_device):
        with pytest.raises(RuntimeError, match="available"):
            fn()
    with pytest.raises(RuntimeError):
        shendu.accelerator.set_device_index(0)
    shendu.cuda.manual_seed(0)           # silently ignored, as in PyTorch
    shendu.cuda.manual_seed_all(0)
    shendu.cuda.empty_cache()
    assert shendu.cuda.memory_allocated() == 0
    # the examples' device pick
    acc = shendu.accelerator.current_accelerator()
    device = acc if shendu.accelerator.is_available() else shendu.device("cpu")
    assert nn.Linear(2, 1).to(device)(shendu.ones(1, 2)).shape == (1, 1)
    assert shendu.device("cuda") == shendu.device("cuda:0")


# ---------------------------------------------------------------- nn.parallel
def test_data_parallel_is_a_pass_through():
    from shendu.nn.parallel import DataParallel, DistributedDataParallel
    shendu.manual_seed(0)
    inner = nn.Linear(3, 2)
    dp = DataParallel(inner)
    x = shendu.randn(5, 3)
    assert np.array_equal(dp(x).detach().numpy(), inner(x).detach().numpy())
    assert dp.module is inner
    assert list(dp.state_dict()) == ["module.weight", "module.bias"]
    assert len(list(dp.parameters())) == 2
    fresh = DataParallel(nn.Linear(3, 2))
    fresh.load_state_dict(dp.state_dict())
    assert np.array_equal(fresh.module.weight.detach().numpy(), inner.weight.detach().numpy())
    with pytest.warns(UserWarning, match="one device"):
        DataParallel(nn.Linear(3, 2), device_ids=[0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataParallel(nn.Linear(3, 2), device_ids=[0], output_device=0)
    with pytest.raises(TypeError, match="Module"):
        DataParallel(lambda x: x)
    assert DistributedDataParallel is shendu.distributed.DistributedDataParallel


# ---------------------------------------------------------------- multiprocessing
def test_share_memory_keeps_values_and_module_api():
    import shendu.multiprocessing as mp
    assert mp.Process is not None and callable(mp.set_start_method)
    shendu.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    assert m.share_memory() is m
    for k, v in m.state_dict().items():
        assert mp.is_shared(v) or v.ndim == 0 and k.endswith("num_batches_tracked")
        np.testing.assert_array_equal(v.numpy(), before[k])
    m(shendu.randn(5, 3)).sum().backward()     # still trains normally
    optim.SGD(m.parameters(), lr=0.1).step()
    assert not mp.is_shared(shendu.zeros(2))
    with pytest.raises(TypeError, match="Tensor"):
        mp.share_memory_(np.zeros(2))


def _hogwild_worker(rank, model, steps, lock):
    opt = optim.SGD(model.parameters(), lr=0.1)
    c = shendu.tensor(np.full((1, 4), rank + 1.0, np.float32))
    for _ in range(steps):
        opt.zero_grad()
        (model.weight * c).sum().backward()    # gradient c: each step adds -0.1 * c
        with lock:
            opt.step()


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_hogwild_parent_sees_children_updates(method):
    import shendu.multiprocessing as mp
    ctx = mp.get_context(method)
    model = nn.Linear(4, 1)
    model.share_memory()
    w0 = model.weight.detach().numpy().copy()
    lock = ctx.Lock()
    procs = [ctx.Process(target=_hogwild_worker, args=(r, model, 5, lock)) for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    # 5 steps of -0.1 * 1 (rank 0) and 5 of -0.1 * 2 (rank 1)
    np.testing.assert_allclose(model.weight.detach().numpy() - w0, -1.5, atol=1e-5)


def _queue_worker(q):
    t = q.get()
    t._data += 10


def test_shared_tensor_through_a_queue():
    import shendu.multiprocessing as mp
    ctx = mp.get_context("spawn")
    t = mp.share_memory_(shendu.zeros(3))
    q = ctx.Queue()
    p = ctx.Process(target=_queue_worker, args=(q,))
    p.start()
    q.put(t)
    p.join(60)
    assert p.exitcode == 0 and t.tolist() == [10.0, 10.0, 10.0]
