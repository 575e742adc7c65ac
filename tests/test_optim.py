"""Unit tests of shendu.optim: the course's update formulas, the Optimizer API
(param groups, zero_grad, closure, state_dict), errors, and gradient clipping.

Agreement with PyTorch step by step is in tests/conformance/test_optim_torch.py.
"""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import shendu
from shendu import optim

ALL = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1)),
    ("Adagrad", dict(lr=0.3, lr_decay=0.01)),
    ("Adadelta", dict(lr=1.0, eps=1e-3)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.01)),
    ("AdamW", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, decoupled_weight_decay=True, weight_decay=0.01)),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(ALL)]


def _grad_of(x):
    """The gradient the course's examples use: f(x) = sum(x^2) / 2 + sum(x), f' = x + 1."""
    return x + 1.0


def _set_grad(p, g):
    p.grad = shendu.tensor(np.asarray(g, dtype=p.dtype))


# --------------------------------------------------------- the course's formulas
def test_sgd_is_x_minus_lr_grad():
    x0 = np.array([1.0, -2.0, 0.5], np.float32)
    p = shendu.tensor(x0, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    _set_grad(p, _grad_of(x0))
    opt.step()
    np.testing.assert_allclose(p._data, x0 - 0.1 * _grad_of(x0), rtol=1e-6)


def test_momentum_matches_course_formula():
    """v = m v - lr g;  x = x + v  (the course's form of momentum)."""
    x = np.array([1.0, -2.0, 0.5])
    p = shendu.tensor(x.copy(), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    v = np.zeros_like(x)
    for _ in range(10):
        g = _grad_of(x)
        v = 0.9 * v - 0.1 * g
        x = x + v
        _set_grad(p, _grad_of(p._data))
        opt.step()
    np.testing.assert_allclose(p._data, x, rtol=1e-12)


def test_nesterov_matches_lookahead_form():
    """PyTorch's Nesterov step d = g + m b equals the course's NAG
    v = m v - lr grad(x + m v); x = x + v, written for y = x + m v."""
    x = np.array([1.0, -2.0, 0.5])
    v = np.zeros_like(x)
    p = shendu.tensor(x.copy(), requires_grad=True)  # tracks y = x + m v
    opt = optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    for _ in range(10):
        v = 0.9 * v - 0.1 * _grad_of(x + 0.9 * v)
        x = x + v
        _set_grad(p, _grad_of(p._data))
        opt.step()
        np.testing.assert_allclose(p._data, x + 0.9 * v, rtol=1e-12)


def test_adagrad_matches_course_formula():
    """h = h + g*g;  x = x - lr g / sqrt(h)."""
    x = np.array([1.0, -2.0, 0.5])
    p = shendu.tensor(x.copy(), requires_grad=True)
    opt = optim.Adagrad([p], lr=0.5, eps=0.0)
    h = np.zeros_like(x)
    for _ in range(10):
        g = _grad_of(x)
        h = h + g * g
        x = x - 0.5 * g / np.sqrt(h)
        _set_grad(p, _grad_of(p._data))
        opt.step()
    np.testing.assert_allclose(p._data, x, rtol=1e-12)


def test_rmsprop_matches_course_formula():
    """E[g²] = 0.9 E[g²] + 0.1 g²;  x = x - lr g / sqrt(E[g²])."""
    x = np.array([1.0, -2.0, 0.5])
    p = shendu.tensor(x.copy(), requires_grad=True)
    opt = optim.RMSprop([p], lr=0.01, alpha=0.9, eps=0.0)
    e = np.zeros_like(x)
    for _ in range(10):
        g = _grad_of(x)
        e = 0.9 * e + 0.1 * g * g
        x = x - 0.01 * g / np.sqrt(e)
        _set_grad(p, _grad_of(p._data))
        opt.step()
    np.testing.assert_allclose(p._data, x, rtol=1e-12)


def test_adadelta_matches_course_formula():
    """x = x - RMS[Δx]_{t-1} / RMS[g]_t * g, with RMS[y] = sqrt(E[y²] + eps)."""
    rho, eps = 0.9, 1e-6
    x = np.array([1.0, -2.0, 0.5])
    p = shendu.tensor(x.copy(), requires_grad=True)
    opt = optim.Adadelta([p], rho=rho, eps=eps)
    eg, edx = np.zeros_like(x), np.zeros_like(x)
    for _ in range(10):
        g = _grad_of(x)
        eg = rho * eg + (1 - rho) * g * g
        dx = -np.sqrt(edx + eps) / np.sqrt(eg + eps) * g
        edx = rho * edx + (1 - rho) * dx * dx
        x = x + dx
        _set_grad(p, _grad_of(p._data))
        opt.step()
    np.testing.assert_allclose(p._data, x, rtol=1e-12)


def test_adam_matches_course_formula():
    """x = x - lr m̂ / (sqrt(v̂) + eps), m̂ and v̂ the bias-corrected averages."""
    b1, b2, lr, eps = 0.9, 0.999, 0.01, 1e-8
    x = np.array([1.0, -2.0, 0.5])
    p = shendu.tensor(x.copy(), requires_grad=True)
    opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps)
    m, v = np.zeros_like(x), np.zeros_like(x)
    for t in range(1, 11):
        g = _grad_of(x)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        _set_grad(p, _grad_of(p._data))
        opt.step()
    np.testing.assert_allclose(p._data, x, rtol=1e-12)


def test_adamw_decays_weights_directly():
    p = shendu.tensor([2.0], requires_grad=True)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    _set_grad(p, [0.0])  # no gradient signal: only the decay moves the weight
    opt.step()
    np.testing.assert_allclose(p._data, [2.0 * (1 - 0.1 * 0.5)], rtol=1e-6)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


def test_maximize_climbs():
    p = shendu.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1, maximize=True)
    _set_grad(p, [2.0])
    opt.step()
    np.testing.assert_allclose(p._data, [1.2], rtol=1e-6)


@pytest.mark.parametrize("name,opts", ALL, ids=IDS)
def test_training_with_backward_reduces_the_loss(name, opts):
    """Fit a small least-squares problem with real backward passes."""
    rng = np.random.default_rng(0)
    X = shendu.tensor(rng.standard_normal((32, 3)).astype(np.float32))
    y = shendu.tensor((rng.standard_normal((32, 3)) @ np.array([1.0, -2.0, 0.5])).astype(np.float32))
    y = X @ shendu.tensor(np.array([1.0, -2.0, 0.5], np.float32))
    w = shendu.tensor(np.zeros(3, np.float32), requires_grad=True)
    b = shendu.tensor(np.zeros(1, np.float32), requires_grad=True)
    opt = getattr(optim, name)([w, b], **opts)

    def loss_fn():
        return ((X @ w + b - y) ** 2).mean()

    first = loss_fn().item()
    for _ in range(200):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
    assert loss_fn().item() < 0.2 * first
    assert w.dtype == np.float32 and b.dtype == np.float32


# --------------------------------------------------------- the Optimizer API
@pytest.mark.parametrize("name,opts", ALL, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_update_is_in_place_and_keeps_dtype(name, opts, dtype):
    p = shendu.tensor(np.array([1.0, -2.0, 0.5], dtype), requires_grad=True)
    q = shendu.tensor(np.array(3.0, dtype), requires_grad=True)  # a 0-d parameter
    opts = dict(opts, lr=np.float64(opts["lr"]))  # a NumPy scalar must not upcast float32
    opt = getattr(optim, name)([p, q], **opts)
    data, version = p._data, p._version
    for _ in range(3):
        _set_grad(p, _grad_of(p._data))
        _set_grad(q, _grad_of(q._data))
        opt.step()
    assert p._data is data, "the update must write into p.data, not replace it"
    assert p._version > version
    assert p.dtype == dtype and q.dtype == dtype and q.shape == ()
    for state in opt.state.values():
        for value in state.values():
            if isinstance(value, shendu.Tensor):
                assert value.dtype == dtype
                assert not value.requires_grad
    assert not np.allclose(p._data, [1.0, -2.0, 0.5])
    assert all(v.shape == () for v in opt.state[q].values() if isinstance(v, shendu.Tensor))
    assert q._data.ndim == 0 and float(q._data) != 3.0


def test_parameters_without_grad_are_skipped():
    p = shendu.tensor([1.0], requires_grad=True)
    q = shendu.tensor([2.0], requires_grad=True)
    opt = optim.Adam([p, q], lr=0.1)
    _set_grad(p, [1.0])
    opt.step()
    assert q._data.tolist() == [2.0]
    assert q not in opt.state or not opt.state[q]
    assert opt.state[p]["step"] == 1


def test_zero_grad_set_to_none_and_in_place():
    p = shendu.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    grad_array = p.grad._data
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad._data is grad_array
    assert p.grad._data.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
    opt.zero_grad()  # no grad at all: nothing to do


def test_step_with_closure_returns_loss_and_enables_grad():
    p = shendu.tensor([3.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.25)
    calls = []

    def closure():
        calls.append(shendu.is_grad_enabled())
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with shendu.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert loss.item() == 9.0
    np.testing.assert_allclose(p._data, [3.0 - 0.25 * 6.0])
    assert opt.step() is None


def test_param_groups_options_and_add_param_group():
    a = shendu.tensor([1.0], requires_grad=True)
    b = shendu.tensor([1.0], requires_grad=True)
    c = shendu.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert all(g["momentum"] == 0.9 for g in opt.param_groups)
    opt.add_param_group({"params": [c], "lr": 0.01, "momentum": 0.0})
    for p in (a, b, c):
        _set_grad(p, [1.0])
    opt.step()
    np.testing.assert_allclose([a._data[0], b._data[0], c._data[0]], [0.9, 0.5, 0.99], rtol=1e-6)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="Invalid learning rate: -0.5"):
        opt.add_param_group({"params": [shendu.tensor([1.0], requires_grad=True)], "lr": -0.5})


def test_named_parameters():
    a = shendu.tensor([1.0], requires_grad=True)
    opt = optim.SGD([("weight", a)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight"]


def test_repr_lists_the_groups_like_pytorch():
    p = shendu.tensor([1.0], requires_grad=True)
    text = repr(optim.SGD([p], lr=0.1, momentum=0.9))
    assert text.splitlines() == ["SGD (", "Parameter Group 0", "    dampening: 0",
                                 "    lr: 0.1", "    maximize: False", "    momentum: 0.9",
                                 "    nesterov: False", "    weight_decay: 0", ")"]


def test_subclass_with_its_own_step():
    class PlainGD(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def step(self, closure=None):
            with shendu.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is not None:
                            p._data -= group["lr"] * p.grad._data

    p = shendu.tensor([1.0], requires_grad=True)
    opt = PlainGD([p])
    _set_grad(p, [2.0])
    opt.step()
    np.testing.assert_allclose(p._data, [0.8])
    assert opt._opt_called  # schedulers know the step ran
    base = optim.Optimizer([shendu.tensor([1.0], requires_grad=True)], {"lr": 0.1})
    base.param_groups[0]["params"][0].grad = shendu.tensor([1.0])
    with pytest.raises(NotImplementedError, match="must implement step"):
        base.step()


# --------------------------------------------------------- state_dict
def _make(name, opts, dtype=np.float32):
    rng = np.random.default_rng(3)
    ps = [shendu.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
          for s in [(4, 3), (3,)]]
    return ps, getattr(optim, name)([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.01}],
                                    **opts)


def _run(ps, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        for p in ps:
            _set_grad(p, np.sin(3 * p._data) + 0.5 * p._data)
        opt.step()


@pytest.mark.parametrize("name,opts", ALL, ids=IDS)
def test_state_dict_round_trip_continues_exactly(name, opts):
    ps, opt = _make(name, opts)
    _run(ps, opt, 100)

    qs, opt1 = _make(name, opts)
    _run(qs, opt1, 50)
    saved = opt1.state_dict()
    params = [q._data.copy() for q in qs]
    _run(qs, opt1, 5)  # later steps must not change what was saved

    rs, opt2 = _make(name, {"lr": 123.0} if "lr" in opts else {})
    for r, a in zip(rs, params):
        r._data[...] = a
    opt2.load_state_dict(saved)
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt1.param_groups]
    _run(rs, opt2, 50)
    for p, r in zip(ps, rs):
        np.testing.assert_array_equal(p._data, r._data)


def test_state_dict_layout_and_copies():
    ps, opt = _make("Adam", dict(lr=0.1))
    _run(ps, opt, 2)
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert sd["state"][0]["step"] == 2
    assert sd["state"][0]["exp_avg"]._data is not opt.state[ps[0]]["exp_avg"]._data
    before = sd["state"][0]["exp_avg"]._data.copy()
    _run(ps, opt, 1)
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"]._data, before)


def test_load_state_dict_casts_arrays_and_accepts_json_keys():
    """A state dict that went through JSON (string keys) and NumPy float64 arrays loads
    as Tensors of the parameters' dtype."""
    ps, opt = _make("SGD", dict(lr=0.1, momentum=0.9))
    _run(ps, opt, 3)
    sd = opt.state_dict()
    plain = {"state": {str(k): {n: np.asarray(v._data, np.float64) for n, v in s.items()}
                       for k, s in sd["state"].items()},
             "param_groups": json.loads(json.dumps(sd["param_groups"]))}
    qs, opt2 = _make("SGD", dict(lr=0.1, momentum=0.9))
    opt2.load_state_dict(plain)
    buf = opt2.state[qs[0]]["momentum_buffer"]
    assert isinstance(buf, shendu.Tensor) and buf.dtype == np.float32
    np.testing.assert_array_equal(buf._data, sd["state"][0]["momentum_buffer"]._data)


def test_load_state_dict_errors():
    ps, opt = _make("Adam", dict(lr=0.1))
    _run(ps, opt, 1)
    sd = opt.state_dict()
    one = shendu.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="different number of parameter groups: 2 in the state "
                                         "dict, 1 in this optimizer"):
        optim.Adam([one]).load_state_dict(sd)
    two = [shendu.tensor([1.0], requires_grad=True) for _ in range(3)]
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group: group 1 "
                                         "has 1 parameters in the state dict and 2"):
        optim.Adam([{"params": two[:1]}, {"params": two[1:]}]).load_state_dict(sd)
    wrong = [shendu.tensor(np.zeros((2, 2), np.float32), requires_grad=True),
             shendu.tensor(np.zeros(3, np.float32), requires_grad=True)]
    with pytest.raises(ValueError, match=r"parameter 0 has 'exp_avg' of shape \(4, 3\), but "
                                         r"the parameter has shape \(2, 2\)"):
        optim.Adam([{"params": [wrong[0]]}, {"params": [wrong[1]]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="with keys 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


# --------------------------------------------------------- errors
@pytest.mark.parametrize("name,kwargs,message", [
    ("SGD", dict(lr=-1), "Invalid learning rate: -1"),
    ("SGD", dict(momentum=-0.1), "Invalid momentum value: -0.1"),
    ("SGD", dict(weight_decay=-1e-4), "Invalid weight_decay value: -0.0001"),
    ("SGD", dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1),
     "Nesterov momentum requires a momentum and zero dampening"),
    ("Adagrad", dict(lr=-0.01), "Invalid learning rate: -0.01"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    ("Adagrad", dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    ("Adagrad", dict(eps=-1), "Invalid epsilon value: -1"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("Adadelta", dict(lr=-1), "Invalid learning rate: -1"),
    ("RMSprop", dict(alpha=-0.5), "Invalid alpha value: -0.5"),
    ("RMSprop", dict(momentum=-1), "Invalid momentum value: -1"),
    ("Adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ("Adam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("AdamW", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ("NAdam", dict(momentum_decay=-1), "Invalid momentum_decay value: -1"),
    ("NAdam", dict(lr=-2), "Invalid learning rate: -2"),
])
def test_invalid_options(name, kwargs, message):
    p = shendu.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError) as info:
        getattr(optim, name)([p], **kwargs)
    assert str(info.value) == message


def test_params_errors():
    p = shendu.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="params argument given to the optimizer should be an "
                                        "iterable of Tensors or dicts, but got shendu.Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="got a single dict"):
        optim.SGD({"params": [p]}, lr=0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    gen = (q for q in [p])
    optim.SGD(gen, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list.*generator"):
        optim.SGD(gen, lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the "
                                        "params is numpy.ndarray"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="ordering of tensors in sets"):
        optim.SGD({p}, lr=0.1)
    with pytest.raises(ValueError, match="needs a 'params' entry"):
        optim.SGD([{"lr": 0.1}])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter "
                                         "group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


def test_non_leaf_refused_frozen_skipped():
    w = shendu.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([w * 2], lr=0.1)
    frozen = shendu.tensor([1.0])  # accepted like PyTorch, and left alone by step()
    opt = optim.SGD([w, frozen], lr=0.1)
    (w * 3).sum().backward()
    opt.step()
    assert w.item() == pytest.approx(0.7) and frozen.item() == 1.0


def test_grad_of_the_wrong_shape_is_reported():
    p = shendu.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = shendu.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"SGD.step: parameter 0 of group 0 has shape \(2,\) "
                                           r"but its .grad has shape \(3,\)"):
        opt.step()
    assert p._data.tolist() == [1.0, 2.0]


# --------------------------------------------------------- clipping
def _with_grads(*grads):
    ps = []
    for g in grads:
        p = shendu.tensor(np.zeros(np.shape(g), np.float32), requires_grad=True)
        p.grad = shendu.tensor(np.asarray(g, np.float32))
        ps.append(p)
    return ps


def test_clip_grad_norm_scales_all_gradients_together():
    ps = _with_grads([3.0, 0.0], [[4.0]])
    total = optim.clip_grad_norm_(ps, max_norm=1.0)
    assert isinstance(total, shendu.Tensor) and total.shape == () and total.item() == 5.0
    coef = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(ps[0].grad._data, [3.0 * coef, 0.0], rtol=1e-6)
    np.testing.assert_allclose(ps[1].grad._data, [[4.0 * coef]], rtol=1e-6)


def test_clip_grad_norm_leaves_small_gradients_and_skips_missing():
    ps = _with_grads([0.3, 0.4])
    none = shendu.tensor([1.0], requires_grad=True)
    total = optim.clip_grad_norm_(ps + [none], max_norm=1.0)
    np.testing.assert_allclose(total.item(), 0.5, rtol=1e-6)
    np.testing.assert_allclose(ps[0].grad._data, [0.3, 0.4], rtol=1e-6)
    assert none.grad is None
    assert optim.clip_grad_norm_([none], 1.0).item() == 0.0


def test_clip_grad_norm_other_norms_and_single_tensor():
    ps = _with_grads([1.0, -3.0, 2.0])
    assert optim.clip_grad_norm_(ps[0], 10.0, norm_type=float("inf")).item() == 3.0
    assert optim.clip_grad_norm_(ps, 10.0, norm_type=1).item() == 6.0
    np.testing.assert_allclose(optim.clip_grad_norm_(ps, 10.0, norm_type=3).item(),
                               36.0 ** (1 / 3), rtol=1e-6)


def test_clip_grad_norm_nonfinite():
    ps = _with_grads([1.0, np.inf])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from "
                                           "`parameters` is non-finite"):
        optim.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    assert ps[0].grad._data.tolist() == [1.0, np.inf]  # nothing was changed
    total = optim.clip_grad_norm_(ps, 1.0)
    assert math.isinf(total.item())


def test_clip_grad_value():
    ps = _with_grads([[-3.0, 0.2], [5.0, -0.1]])
    data = ps[0].grad._data
    assert optim.clip_grad_value_(ps, 1.0) is None
    np.testing.assert_array_equal(ps[0].grad._data,
                                  np.array([[-1.0, 0.2], [1.0, -0.1]], np.float32))
    assert ps[0].grad._data is data and ps[0].grad.dtype == np.float32


def test_clip_empty_generator_warns():
    with pytest.warns(UserWarning, match="empty generator"):
        optim.clip_grad_norm_((p for p in []), 1.0)


@pytest.mark.parametrize("module", ["optimizer", "sgd", "adagrad", "adadelta", "rmsprop",
                                    "adam", "nadam", "clip", "lr_scheduler"])
def test_docstring_examples_run(module):
    import doctest
    import importlib
    mod = importlib.import_module(f"shendu.optim.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
