"""Learning-rate schedulers against PyTorch 2.13: 100 steps, ``get_last_lr()`` (and the
momentum OneCycleLR cycles) equal at every step to rtol 1e-5."""
from __future__ import annotations

import math

import numpy as np
import pytest

import shendu
from shendu import optim
from shendu.optim import lr_scheduler as ours_sched

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")

pytestmark = pytest.mark.conformance

STEPS = 100
LRS = [0.1, 0.01]  # two parameter groups


class Scaled:
    """A callable object (its state is saved in state_dict, unlike a lambda)."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


def _make_opts(kind="SGD"):
    p = shendu.tensor([1.0, 2.0], requires_grad=True)
    q = shendu.tensor([3.0], requires_grad=True)
    tp = torch.tensor([1.0, 2.0], requires_grad=True)
    tq = torch.tensor([3.0], requires_grad=True)
    if kind == "SGD":
        opt = optim.SGD([{"params": [p], "lr": LRS[0]}, {"params": [q], "lr": LRS[1]}],
                        momentum=0.9)
        topt = torch.optim.SGD([{"params": [tp], "lr": LRS[0]}, {"params": [tq], "lr": LRS[1]}],
                               momentum=0.9)
    else:
        opt = optim.Adam([{"params": [p], "lr": LRS[0]}, {"params": [q], "lr": LRS[1]}])
        topt = torch.optim.Adam([{"params": [tp], "lr": LRS[0]}, {"params": [tq], "lr": LRS[1]}])
    return opt, topt


def _both(build, opt, topt):
    return build(ours_sched, opt), build(torch.optim.lr_scheduler, topt)


CASES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[10, 30, 30, 75], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.97),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=30),
    "CosineAnnealingLR-eta_min": lambda m, o: m.CosineAnnealingLR(o, T_max=17, eta_min=1e-3),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lr_lambda=lambda e: 1.0 / (1 + 0.1 * e)),
    "LambdaLR-list": lambda m, o: m.LambdaLR(o, [lambda e: 0.99 ** e, Scaled(0.95)]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lr_lambda=lambda e: 0.98),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.1, total_iters=20),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.05,
                                              total_iters=60),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=8),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=50, power=2.0),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2,
                                                                              eta_min=1e-4),
    "OneCycleLR-cos": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.1], total_steps=STEPS),
    "OneCycleLR-linear": lambda m, o: m.OneCycleLR(o, max_lr=0.5, epochs=10, steps_per_epoch=10,
                                                   anneal_strategy="linear", pct_start=0.25),
    "OneCycleLR-three_phase": lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=STEPS + 1,
                                                        three_phase=True, div_factor=10.0),
    "OneCycleLR-no-momentum": lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=STEPS,
                                                        cycle_momentum=False),
}


def _composite(m, o, kind):
    if kind == "SequentialLR":
        warm = m.LinearLR(o, start_factor=0.1, total_iters=10)
        cos = m.CosineAnnealingLR(o, T_max=40)
        step = m.StepLR(o, step_size=5, gamma=0.5)
        return m.SequentialLR(o, [warm, cos, step], milestones=[10, 50])
    warm = m.LinearLR(o, start_factor=0.2, total_iters=15)
    exp = m.ExponentialLR(o, gamma=0.98)
    return m.ChainedScheduler([warm, exp])


for _kind in ("SequentialLR", "ChainedScheduler"):
    CASES[_kind] = (lambda k: lambda m, o: _composite(m, o, k))(_kind)


def _momenta(opt):
    out = []
    for g in opt.param_groups:
        out.append(g["betas"][0] if "betas" in g else g.get("momentum"))
    return out


# the optimizer kind matters only for OneCycleLR, which cycles momentum or betas[0]
RUNS = [(name, "SGD") for name in CASES] + [(name, "Adam") for name in CASES
                                             if name.startswith("OneCycle")]


@pytest.mark.parametrize("name,kind", RUNS, ids=[f"{n}-{k}" for n, k in RUNS])
def test_scheduler_matches_torch(name, kind):
    opt, topt = _make_opts(kind)
    sched, tsched = _both(CASES[name], opt, topt)
    seen = set()
    for step in range(STEPS):
        lrs, tlrs = sched.get_last_lr(), tsched.get_last_lr()
        np.testing.assert_allclose(lrs, tlrs, rtol=1e-5, atol=1e-12, err_msg=f"step {step}")
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(
            [g["lr"] for g in topt.param_groups], rel=1e-5, abs=1e-12)
        np.testing.assert_allclose(np.array(_momenta(opt), dtype=float),
                                   np.array(_momenta(topt), dtype=float), rtol=1e-5,
                                   err_msg=f"momentum, step {step}")
        assert getattr(sched, "last_epoch", None) == getattr(tsched, "last_epoch", None)
        seen.add(round(lrs[0], 12))
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
    assert len(seen) > 1  # the schedule did change the learning rate


METRICS = {
    "decreasing-then-flat": [1.0 / (1 + i) if i < 20 else 0.05 for i in range(STEPS)],
    "noisy": list(np.random.default_rng(0).uniform(0.5, 1.0, STEPS)),
    "rising": [i * 0.1 + (0.3 if i % 7 == 0 else 0.0) for i in range(STEPS)],
}
PLATEAU = [
    dict(),
    dict(patience=2, factor=0.5),
    dict(mode="max", patience=3, factor=0.5, threshold=0.01),
    dict(patience=1, threshold_mode="abs", threshold=0.05, cooldown=2, min_lr=1e-3),
    dict(mode="max", threshold_mode="abs", patience=0, factor=0.9, min_lr=[0.05, 1e-3]),
    dict(patience=0, factor=0.5, eps=1e-3),
]


@pytest.mark.parametrize("metrics", list(METRICS))
@pytest.mark.parametrize("opts", PLATEAU, ids=[str(i) for i in range(len(PLATEAU))])
def test_reduce_lr_on_plateau_matches_torch(opts, metrics):
    opt, topt = _make_opts()
    sched = ours_sched.ReduceLROnPlateau(opt, **opts)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **opts)
    changes = 0
    for step, value in enumerate(METRICS[metrics]):
        before = sched.get_last_lr()
        sched.step(value)
        tsched.step(value)
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-5,
                                   err_msg=f"step {step}")
        assert sched.num_bad_epochs == tsched.num_bad_epochs
        assert sched.cooldown_counter == tsched.cooldown_counter
        changes += sched.get_last_lr() != before
    if metrics == "noisy":  # no progress on noise: every setting reduces at some point
        assert changes > 0


def test_closed_form_epoch_argument_matches_torch():
    """The deprecated ``step(epoch)`` jumps with the closed form, as in torch."""
    opt, topt = _make_opts()
    sched, tsched = _both(CASES["CosineAnnealingLR"], opt, topt)
    with pytest.warns(UserWarning):
        sched.step(12)
    with pytest.warns(UserWarning):
        tsched.step(12)
    np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)
    assert math.isclose(sched.get_last_lr()[0],
                        0.5 * 0.1 * (1 + math.cos(math.pi * 12 / 30)), rel_tol=1e-12)
