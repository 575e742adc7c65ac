"""LBFGS against PyTorch 2.13's ``torch.optim.LBFGS``: from the same start, the iterates
after each ``step(closure)`` must agree to 1e-10 in float64, with and without the
strong-Wolfe line search, on the Rosenbrock function, a least-squares problem and a small
MLP (several parameters, so the flattening order matters).

The Rosenbrock and least-squares losses and gradients are computed in NumPy from the
parameters' values and handed to both optimizers (as tests/conformance/test_optim_torch.py
does), so any difference comes from L-BFGS alone: the Rosenbrock valley amplifies a
last-bit difference in an autograd gradient to 1e-7 within a few dozen iterations. For
the same reason the Rosenbrock run compares every iteration (``max_iter=1`` per step):
PyTorch's ``p.add_(d, alpha=t)`` is a fused multiply-add (one rounding), NumPy's
``p += t * d`` rounds twice, and a longer run drifts apart by that last bit, amplified.
The MLP test uses each framework's own autograd, over fewer iterations."""
from __future__ import annotations

import numpy as np
import pytest

import shendu
from shendu import nn, optim

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")

pytestmark = pytest.mark.conformance

MODES = [None, "strong_wolfe"]


def _rosenbrock(x):
    f = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    g = np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])
    return f, g


def _numpy_loss(lib, param, f_and_grad):
    """A loss function for ``_run`` that sets ``param.grad`` to the NumPy gradient and
    returns the NumPy loss, the same bits in both frameworks."""
    def loss_fn():
        f, g = f_and_grad(param.detach().numpy().copy())
        param.grad = lib.tensor(g)
        return _Loss(lib.tensor(f))
    return loss_fn


class _Loss:
    """What a closure returns; ``backward`` does nothing (the gradient is set already)."""

    def __init__(self, value):
        self.value = value

    def backward(self):
        pass

    def __float__(self):
        return float(self.value)


def _run(lib, params, loss_fn, steps, **options):
    opt = (optim.LBFGS if lib is shendu else torch.optim.LBFGS)(params, **options)
    path, losses = [], []

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(float(opt.step(closure)))
        path.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    evals = opt.state[params[0]]["func_evals"]
    return np.array(path), np.array(losses), evals


@pytest.mark.parametrize("line_search_fn", MODES)
@pytest.mark.parametrize("history_size", [100, 3])
def test_rosenbrock_iterates_match(line_search_fn, history_size):
    start = np.array([-1.5, 2.0])
    xs = shendu.tensor(start, requires_grad=True)
    xt = torch.tensor(start, requires_grad=True)
    opts = dict(lr=1 if line_search_fn else 0.02, max_iter=1, max_eval=25, history_size=history_size,
                line_search_fn=line_search_fn)
    ps, ls, es = _run(shendu, [xs], _numpy_loss(shendu, xs, _rosenbrock), 40, **opts)
    pt, lt, et = _run(torch, [xt], _numpy_loss(torch, xt, _rosenbrock), 40, **opts)
    # the first 15 iterations to 1e-10; later the fused-multiply-add bit, amplified
    np.testing.assert_allclose(ps[:15], pt[:15], rtol=0, atol=1e-10)
    np.testing.assert_allclose(ps, pt, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ls[:15], lt[:15], rtol=1e-10, atol=1e-12)
    assert es == et
    if line_search_fn:  # it really converges to the minimum (1, 1)
        np.testing.assert_allclose(ps[-1], [1.0, 1.0], atol=1e-4)


@pytest.mark.parametrize("line_search_fn", MODES)
def test_least_squares_iterates_match(line_search_fn):
    rng = np.random.default_rng(0)
    A, b = rng.normal(size=(30, 6)), rng.normal(size=30)
    w0 = rng.normal(size=6)
    ws, wt = shendu.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)

    def lsq(w):
        r = A @ w - b
        return (r ** 2).mean(), 2 * A.T @ r / len(b)

    opts = dict(lr=0.5 if line_search_fn is None else 1, max_iter=5,
                line_search_fn=line_search_fn)
    ps, ls, _ = _run(shendu, [ws], _numpy_loss(shendu, ws, lsq), 4, **opts)
    pt, lt, _ = _run(torch, [wt], _numpy_loss(torch, wt, lsq), 4, **opts)
    np.testing.assert_allclose(ps, pt, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ls, lt, rtol=1e-10)
    if line_search_fn:  # reaches the least-squares solution
        np.testing.assert_allclose(ps[-1], np.linalg.lstsq(A, b, rcond=None)[0], atol=1e-4)


@pytest.mark.parametrize("line_search_fn", MODES)
def test_mlp_iterates_match(line_search_fn):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    shendu.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)).double()
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(),
                               torch.nn.Linear(5, 1)).double()
    with torch.no_grad():
        for tp, p in zip(tnet.parameters(), net.parameters()):
            tp.copy_(torch.from_numpy(p._data.copy()))
    Xs, ys, Xt, yt = shendu.tensor(X), shendu.tensor(y), torch.tensor(X), torch.tensor(y)
    opts = dict(lr=0.2 if line_search_fn is None else 1, max_iter=6, history_size=4,
                line_search_fn=line_search_fn)
    ps, ls, es = _run(shendu, list(net.parameters()),
                      lambda: ((net(Xs) - ys) ** 2).mean(), 3, **opts)
    pt, lt, et = _run(torch, list(tnet.parameters()),
                      lambda: ((tnet(Xt) - yt) ** 2).mean(), 3, **opts)
    np.testing.assert_allclose(ps, pt, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ls, lt, rtol=1e-10)
    assert es == et
    assert ls[-1] < ls[0]
