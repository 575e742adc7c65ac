"""Image normalization against PyTorch 2.13: the CASES of tests/test_norm2d.py (forward
and gradients in float32), then the layers with torch's own weights: BatchNorm2d and
InstanceNorm2d over several training steps (running statistics) and in evaluation,
GroupNorm, Hessian-vector products, repr and state_dict keys."""
import numpy as np
import pytest

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from harness import check_conformance, params
from test_norm2d import CASES

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance suite "
                            "needs `pip install torch==2.13.0`")


@params([c for c in CASES if c.torch_fn is not None])
def test_conformance(case):
    check_conformance(case)


def _load(ours, theirs):
    res = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert res.missing_keys == [] and res.unexpected_keys == []
    return ours


def _randomize(theirs, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, generator=g))


def _step(ours, theirs, x, seed):
    a, t = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(a), theirs(t)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    g = np.random.default_rng(seed).standard_normal(y.shape).astype(np.float32)
    y.backward(shendu.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-4,
                                   err_msg=name)
        p.grad, tp.grad = None, None


def _same_buffers(ours, theirs):
    theirs_buf = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b.numpy(), theirs_buf[name].numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)


LAYERS = [
    ("BatchNorm2d", (3,), {}), ("BatchNorm2d", (3,), {"momentum": None}),
    ("BatchNorm2d", (3,), {"momentum": 0.3, "eps": 1e-3}), ("BatchNorm2d", (3,), {"affine": False}),
    ("BatchNorm2d", (3,), {"track_running_stats": False}),
    ("InstanceNorm2d", (3,), {}), ("InstanceNorm2d", (3,), {"affine": True}),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}),
    ("InstanceNorm2d", (3,), {"track_running_stats": True, "momentum": None}),
    ("GroupNorm", (3, 6), {}), ("GroupNorm", (1, 3), {"affine": False}), ("GroupNorm", (3, 3), {}),
]


@pytest.mark.parametrize("name,args,kwargs", LAYERS, ids=[f"{n}{a}{k}" for n, a, k in LAYERS])
def test_layer_train_steps_then_eval_match_torch(name, args, kwargs):
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    _randomize(theirs)
    ours = _load(getattr(nn, name)(*args, **kwargs), theirs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    c = args[-1] if name == "GroupNorm" else args[0]
    rng = np.random.default_rng(1)
    for step in range(3):
        x = (rng.standard_normal((4, c, 5, 7)) * (step + 1) + step).astype(np.float32)
        _step(ours, theirs, x, step)
        _same_buffers(ours, theirs)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, c, 6, 3)).astype(np.float32)
    _step(ours, theirs, x, 9)
    _same_buffers(ours, theirs)


def test_instance_norm1d_3d_and_unbatched_match_torch():
    for name, shape in [("InstanceNorm1d", (2, 3, 7)), ("InstanceNorm3d", (2, 3, 2, 3, 4)),
                        ("InstanceNorm2d", (3, 5, 5)), ("InstanceNorm1d", (3, 7))]:
        theirs = getattr(torch.nn, name)(3, affine=True, track_running_stats=True)
        _randomize(theirs, 2)
        ours = _load(getattr(nn, name)(3, affine=True, track_running_stats=True), theirs)
        x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
        _step(ours, theirs, x, 0)
        _same_buffers(ours, theirs)


@pytest.mark.parametrize("which", ["batch_norm", "group_norm", "instance_norm"])
def test_hessian_vector_products_match_torch(which):
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((3, 4, 3, 5)), rng.standard_normal(4), rng.standard_normal(4)
    ours = [shendu.tensor(v, requires_grad=True) for v in (x, w, b)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, w, b)]
    fns = {"batch_norm": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                          lambda x, w, b: torch.nn.functional.batch_norm(x, None, None, w, b,
                                                                         training=True)),
           "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b),
                          lambda x, w, b: torch.nn.functional.group_norm(x, 2, w, b)),
           "instance_norm": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                             lambda x, w, b: torch.nn.functional.instance_norm(x, weight=w,
                                                                               bias=b))}
    f, tf = fns[which]
    y, ty = f(*ours), tf(*theirs)
    c = rng.standard_normal(y.shape)
    gs = shendu.autograd.grad((y * y * shendu.tensor(c)).sum(), ours, create_graph=True)
    tgs = torch.autograd.grad((ty * ty * torch.tensor(c)).sum(), theirs, create_graph=True)
    vs = [rng.standard_normal(v.shape) for v in (x, w, b)]
    hs = shendu.autograd.grad(sum((g * shendu.tensor(v)).sum() for g, v in zip(gs, vs)), ours)
    ths = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(tgs, vs)), theirs)
    for h, th in zip(hs, ths):
        np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-8, atol=1e-8)
