"""Optimizers against PyTorch 2.13: 100 steps on the same parameters with the same
gradients must give the same parameters (and the same state) to rtol 1e-5.

The gradients come from a fixed random quadratic, ``grad = A @ theta - b`` over all
parameters flattened together, computed in NumPy from shendu's parameters and fed to
both frameworks, so any difference comes from the update rule alone.
"""
from __future__ import annotations

import numpy as np
import pytest

import shendu
from shendu import optim

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")

pytestmark = pytest.mark.conformance

SHAPES = [(5, 3), (4,)]
STEPS = 100

# (optimizer name, options): each row runs in float32, a few in float64 too
CASES = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("SGD", dict(lr=0.005, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.005, momentum=0.5, nesterov=True, weight_decay=0.01, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.1, eps=1e-3)),
    ("Adagrad", dict(lr=0.05, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(rho=0.5)),
    ("Adadelta", dict(lr=0.5, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(centered=True)),
    ("RMSprop", dict(momentum=0.9)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(alpha=0.3)),
    ("RMSprop", dict(lr=0.005, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.5))),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.1, eps=1e-3, weight_decay=0.05, amsgrad=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5)),
    ("AdamW", dict(lr=0.01, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01, betas=(0.6, 0.9))),
    ("NAdam", dict(lr=0.01, maximize=True)),
]
FLOAT64 = {0, 2, 8, 13, 17, 23, 24, 34}


def _ids(cases):
    return [f"{name}-" + ",".join(f"{k}={v}" for k, v in opts.items()) for name, opts in cases]


class Quadratic:
    """f(theta) = 1/2 theta^T A theta - b^T theta over the flattened parameters."""

    def __init__(self, shapes, seed=0):
        rng = np.random.default_rng(seed)
        self.shapes = shapes
        self.sizes = [int(np.prod(s)) for s in shapes]
        n = sum(self.sizes)
        m = rng.standard_normal((n, n))
        self.A = m @ m.T / n + 0.1 * np.eye(n)
        self.b = rng.standard_normal(n)
        self.init = [rng.standard_normal(s) for s in shapes]

    def grads(self, arrays):
        theta = np.concatenate([np.asarray(a, dtype=np.float64).reshape(-1) for a in arrays])
        g = self.A @ theta - self.b
        out, start = [], 0
        for s, k in zip(self.shapes, self.sizes):
            out.append(g[start:start + k].reshape(s))
            start += k
        return out


def _torch_optimizer(name, params, opts):
    opts = dict(opts)
    if name == "Adam" and "betas" in opts:
        opts["betas"] = tuple(float(b) for b in opts["betas"])
    return getattr(torch.optim, name)(params, **opts)


def run_both(name, opts, dtype, steps=STEPS, skip=None, groups=None):
    """Run shendu and torch side by side; return both parameter lists and optimizers.

    ``skip(step, i)`` True leaves parameter i without a gradient at that step;
    ``groups`` (a list of per-group option dicts) puts each parameter in its own group.
    """
    q = Quadratic(SHAPES)
    ours = [shendu.tensor(a.astype(dtype), requires_grad=True) for a in q.init]
    theirs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in q.init]
    if groups is None:
        opt = getattr(optim, name)(ours, **opts)
        topt = _torch_optimizer(name, theirs, opts)
    else:
        opt = getattr(optim, name)([dict(params=[p], **g) for p, g in zip(ours, groups)], **opts)
        topt = _torch_optimizer(name, [dict(params=[p], **g) for p, g in zip(theirs, groups)],
                                opts)
    for step in range(steps):
        grads = q.grads([p._data for p in ours])
        opt.zero_grad()
        topt.zero_grad()
        for i, (p, tp, g) in enumerate(zip(ours, theirs, grads)):
            if skip is not None and skip(step, i):
                continue
            g = g.astype(dtype)
            p.grad = shendu.tensor(g)
            tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
    return ours, theirs, opt, topt


def _assert_close(ours, theirs, dtype):
    # float64: PyTorch keeps NAdam's running product of momenta as a float32 tensor
    # (shendu keeps a Python float), which shows at about 1e-9
    rtol, atol = (1e-5, 1e-6) if dtype == np.float32 else (1e-8, 1e-10)
    for i, (p, tp) in enumerate(zip(ours, theirs)):
        assert p.dtype == dtype
        np.testing.assert_allclose(p._data, tp.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"parameter {i}")


@pytest.mark.parametrize("name,opts", CASES, ids=_ids(CASES))
def test_optimizer_matches_torch_float32(name, opts):
    ours, theirs, opt, topt = run_both(name, opts, np.float32)
    _assert_close(ours, theirs, np.float32)
    # the parameters moved (the test can fail if nothing happens)
    q = Quadratic(SHAPES)
    assert not np.allclose(ours[0]._data, q.init[0].astype(np.float32))


@pytest.mark.parametrize("name,opts", [CASES[i] for i in sorted(FLOAT64)],
                         ids=_ids([CASES[i] for i in sorted(FLOAT64)]))
def test_optimizer_matches_torch_float64(name, opts):
    ours, theirs, _, _ = run_both(name, opts, np.float64)
    _assert_close(ours, theirs, np.float64)


@pytest.mark.parametrize("name,opts", CASES, ids=_ids(CASES))
def test_state_matches_torch(name, opts):
    """The same state names and values as torch's state_dict (step as a number)."""
    _, _, opt, topt = run_both(name, opts, np.float32, steps=20)
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for idx, tstate in theirs["state"].items():
        assert sorted(ours["state"][idx]) == sorted(tstate), f"parameter {idx}"
        for key, tval in tstate.items():
            val = ours["state"][idx][key]
            tval = tval.numpy() if isinstance(tval, torch.Tensor) else tval
            val = val._data if isinstance(val, shendu.Tensor) else val
            np.testing.assert_allclose(np.asarray(val, dtype=np.float64),
                                       np.asarray(tval, dtype=np.float64),
                                       rtol=1e-5, atol=1e-6, err_msg=f"{idx}.{key}")
    for group, tgroup in zip(ours["param_groups"], theirs["param_groups"]):
        assert group["params"] == tgroup["params"]
        for key, value in group.items():
            assert key in tgroup, key
            assert value == tgroup[key], key


SKIP_CASES = [("SGD", dict(lr=0.01, momentum=0.9)), ("Adagrad", dict(lr=0.1)),
              ("Adam", dict(lr=0.01)), ("NAdam", dict(lr=0.01)),
              ("RMSprop", dict(centered=True)), ("Adadelta", dict())]


@pytest.mark.parametrize("name,opts", SKIP_CASES, ids=_ids(SKIP_CASES))
def test_parameters_without_grad_are_skipped_like_torch(name, opts):
    """Parameter 1 gets no gradient every third step: its step counter must not move."""
    ours, theirs, _, _ = run_both(name, opts, np.float32, skip=lambda s, i: i == 1 and s % 3 == 0)
    _assert_close(ours, theirs, np.float32)


GROUP_CASES = [("SGD", dict(lr=0.01, momentum=0.9), [dict(lr=0.02), dict(nesterov=True)]),
               ("Adam", dict(lr=0.01), [dict(lr=0.05, amsgrad=True), dict(weight_decay=0.1)]),
               ("RMSprop", dict(), [dict(centered=True), dict(momentum=0.5)])]


@pytest.mark.parametrize("name,opts,groups", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_param_groups_match_torch(name, opts, groups):
    ours, theirs, _, _ = run_both(name, opts, np.float32, groups=groups)
    _assert_close(ours, theirs, np.float32)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    ours = [shendu.tensor(np.zeros(s, np.float32), requires_grad=True) for s in SHAPES]
    theirs = [torch.zeros(s, requires_grad=True) for s in SHAPES]
    for p, tp, g in zip(ours, theirs, grads):
        p.grad, tp.grad = shendu.tensor(g), torch.tensor(g)
    total = optim.clip_grad_norm_(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    assert total.dtype == np.float32
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.grad._data, tp.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_value_matches_torch():
    rng = np.random.default_rng(2)
    g = rng.standard_normal((6, 4)).astype(np.float32)
    p, tp = shendu.tensor(np.zeros_like(g), requires_grad=True), torch.zeros(6, 4, requires_grad=True)
    p.grad, tp.grad = shendu.tensor(g), torch.tensor(g)
    optim.clip_grad_value_([p], 0.5)
    torch.nn.utils.clip_grad_value_([tp], 0.5)
    np.testing.assert_array_equal(p.grad._data, tp.grad.numpy())
