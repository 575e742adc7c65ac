"""One table of ops, three checks (Chainer's FunctionTestCase, tinygrad's helper_test_op).

Each family of ops lists ``Case`` rows: the shendu call, the PyTorch call of the
same op (``None`` when PyTorch has none), and the input shapes to try (broadcasting,
size-1 and 0-d included). From that one row the tests check:

* ``check_gradcheck``: float64 central differences against autograd;
* ``check_gradgradcheck``: the same for second derivatives (ops with double backward);
* ``check_conformance``: forward and gradients in float32 against PyTorch 2.13.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np
import pytest

import shendu
from shendu.autograd import gradcheck, gradgradcheck


def standard_normal(rng, shape):
    return rng.standard_normal(shape)


def positive(rng, shape):
    """Values in [0.5, 2): for log, sqrt, division."""
    return rng.uniform(0.5, 2.0, shape)


def away_from_zero(rng, shape):
    """|x| in [0.3, 2): for kinks at 0 (abs, relu) and division."""
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def unit_interval(rng, shape):
    """Values in (-0.9, 0.9): for atanh-like domains."""
    return rng.uniform(-0.9, 0.9, shape)


@dataclass
class Case:
    """One op on one set of input shapes."""

    name: str
    fn: Callable                       # shendu: fn(*tensors) -> Tensor
    torch_fn: Optional[Callable]       # torch: fn(*tensors) -> tensor, or None
    shapes: Sequence[tuple]
    domain: Callable = standard_normal  # domain(rng, shape) -> float64 array (or list per input)
    differentiable: Optional[Sequence[bool]] = None  # which inputs get gradients (default all)
    double: bool = True                # check second derivatives too
    atol: float = 1e-5                 # gradcheck tolerances
    rtol: float = 1e-3
    fwd_atol: float = 1e-6             # conformance tolerances (float32)
    fwd_rtol: float = 1e-4
    grad_atol: float = 1e-5
    grad_rtol: float = 1e-4
    extra: dict = field(default_factory=dict)

    @property
    def id(self):
        return f"{self.name}-" + "-".join("x".join(map(str, s)) or "scalar" for s in self.shapes)

    def arrays(self, seed=0):
        rng = np.random.default_rng(seed)
        domains = self.domain if isinstance(self.domain, (list, tuple)) else [self.domain] * len(self.shapes)
        return [np.asarray(d(rng, s), dtype=np.float64) for d, s in zip(domains, self.shapes)]

    def wants_grad(self, i):
        return True if self.differentiable is None else bool(self.differentiable[i])


def params(cases):
    """``pytest.mark.parametrize`` arguments for a list of cases."""
    return pytest.mark.parametrize("case", cases, ids=[c.id for c in cases])


def shendu_inputs(case, dtype=np.float64, seed=0):
    return [shendu.tensor(a.astype(dtype), requires_grad=case.wants_grad(i))
            for i, a in enumerate(case.arrays(seed))]


def check_gradcheck(case):
    inputs = shendu_inputs(case)
    assert gradcheck(case.fn, inputs, atol=case.atol, rtol=case.rtol)


def check_gradgradcheck(case):
    if not case.double:
        pytest.skip(f"{case.name} has no double backward")
    inputs = shendu_inputs(case)
    assert gradgradcheck(case.fn, inputs, atol=case.atol * 10, rtol=case.rtol * 10)


def check_conformance(case, dtype=np.float32):
    """Forward and gradients against PyTorch (float32 unless given)."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                                "suite needs `pip install torch==2.13.0`")
    if case.torch_fn is None:
        pytest.skip(f"PyTorch has no {case.name}")
    arrays = [a.astype(dtype) for a in case.arrays()]
    ours = [shendu.tensor(a, requires_grad=case.wants_grad(i)) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=case.wants_grad(i)) for i, a in enumerate(arrays)]
    y = case.fn(*ours)
    ty = case.torch_fn(*theirs)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(),
                               atol=case.fwd_atol, rtol=case.fwd_rtol,
                               err_msg=f"{case.id}: forward differs from PyTorch")
    assert y.shape == tuple(ty.shape), f"{case.id}: shape {y.shape} vs PyTorch {tuple(ty.shape)}"
    if not any(case.wants_grad(i) for i in range(len(arrays))) or not ty.requires_grad:
        return
    g = np.random.default_rng(7).standard_normal(y.shape).astype(dtype)
    y.backward(shendu.tensor(g))
    ty.backward(torch.tensor(g))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if not case.wants_grad(i):
            continue
        tg = np.zeros(a.shape, dtype) if b.grad is None else b.grad.numpy()
        sg = np.zeros(a.shape, dtype) if a.grad is None else a.grad.numpy()
        np.testing.assert_allclose(sg, tg, atol=case.grad_atol, rtol=case.grad_rtol,
                                   err_msg=f"{case.id}: gradient of input {i} differs from PyTorch")
