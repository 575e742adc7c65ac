"""Unit tests of shendu.optim.lr_scheduler: known values, state_dict, errors.

Step-by-step agreement with PyTorch is in tests/conformance/test_lr_scheduler_torch.py.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import shendu
from shendu import optim
from shendu.optim import lr_scheduler as S


def _opt(lr=0.1, kind="SGD", groups=1, **kw):
    ps = [shendu.tensor([1.0], requires_grad=True) for _ in range(groups)]
    cls = getattr(optim, kind)
    return cls([{"params": [p], "lr": lr * 10 ** -i} for i, p in enumerate(ps)], lr=lr, **kw)


def _lrs(sched, steps, group=0):
    out = []
    for _ in range(steps):
        out.append(sched.get_last_lr()[group])
        sched.optimizer.step()
        sched.step()
    return out


def test_step_lr_values_and_group_lr():
    opt = _opt(1.0)
    sched = S.StepLR(opt, step_size=3, gamma=0.5)
    assert _lrs(sched, 8) == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert opt.param_groups[0]["lr"] == 0.25  # epoch 8 (halved again at 9)
    assert opt.param_groups[0]["initial_lr"] == 1.0
    assert sched.last_epoch == 8


def test_multistep_and_exponential():
    sched = S.MultiStepLR(_opt(1.0), milestones=[2, 5, 5], gamma=0.1)
    np.testing.assert_allclose(_lrs(sched, 7), [1, 1, 0.1, 0.1, 0.1, 1e-3, 1e-3], rtol=1e-12)
    sched = S.ExponentialLR(_opt(1.0), gamma=0.9)
    np.testing.assert_allclose(_lrs(sched, 50), 0.9 ** np.arange(50), rtol=1e-12)


def test_cosine_annealing_recursive_form_equals_closed_form():
    base, eta_min, T = 0.1, 1e-3, 25
    sched = S.CosineAnnealingLR(_opt(base), T_max=T, eta_min=eta_min)
    t = np.arange(100)
    closed = eta_min + (base - eta_min) * (1 + np.cos(np.pi * t / T)) / 2
    np.testing.assert_allclose(_lrs(sched, 100), closed, rtol=1e-9, atol=1e-15)


def test_linear_warmup():
    sched = S.LinearLR(_opt(1.0), start_factor=0.25, total_iters=3)
    np.testing.assert_allclose(_lrs(sched, 6), [0.25, 0.5, 0.75, 1.0, 1.0, 1.0], rtol=1e-12)


def test_lambda_lr_per_group():
    opt = _opt(1.0, groups=2)
    sched = S.LambdaLR(opt, [lambda e: 1.0 / (e + 1), lambda e: 2.0 ** e])
    for e in range(5):
        np.testing.assert_allclose(sched.get_last_lr(), [1.0 / (e + 1), 0.1 * 2.0 ** e], rtol=1e-12)
        opt.step()
        sched.step()


def test_one_cycle_shape():
    opt = _opt(kind="SGD", momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=100, pct_start=0.3, div_factor=25.0,
                         final_div_factor=1e4)
    lrs, moms = [], []
    for _ in range(100):
        lrs.append(sched.get_last_lr()[0])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        if len(lrs) < 100:
            sched.step()
    assert lrs[0] == pytest.approx(1.0 / 25)
    assert max(lrs) == pytest.approx(1.0) and int(np.argmax(lrs)) == 29
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert moms[0] == pytest.approx(0.95) and moms[29] == pytest.approx(0.85)
    assert moms[-1] == pytest.approx(0.95)
    assert np.all(np.diff(lrs[:30]) > 0) and np.all(np.diff(lrs[29:]) < 0)
    with pytest.raises(ValueError, match="Tried to step 101 times. The specified number of "
                                         "total steps is 100"):
        sched.step()
        sched.step()


def test_one_cycle_cycles_adam_beta1():
    opt = _opt(kind="Adam", betas=(0.9, 0.99))
    sched = S.OneCycleLR(opt, max_lr=0.01, total_steps=10, anneal_strategy="linear",
                         three_phase=True)
    assert opt.param_groups[0]["betas"] == (0.95, 0.99)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["betas"][0] < 0.95 and opt.param_groups[0]["betas"][1] == 0.99


def test_reduce_lr_on_plateau():
    opt = _opt(1.0)
    sched = S.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1, min_lr=0.2)
    history = []
    for loss in [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]:
        sched.step(loss)
        history.append(sched.get_last_lr()[0])
    # 3 bad epochs (> patience 2) halve it; 1 cooldown epoch; then 3 more bad epochs
    assert history == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    for _ in range(10):
        sched.step(0.95)
    assert sched.get_last_lr() == [0.2]  # min_lr


def test_reduce_lr_on_plateau_max_mode_accepts_tensors():
    opt = _opt(1.0)
    sched = S.ReduceLROnPlateau(opt, mode="max", patience=0)
    sched.step(shendu.tensor(0.5))
    sched.step(shendu.tensor(0.9))
    assert sched.get_last_lr() == [1.0]
    sched.step(shendu.tensor(0.8))
    assert sched.get_last_lr() == pytest.approx([0.1])


def test_sequential_warmup_then_cosine():
    opt = _opt(1.0)
    warm = S.LinearLR(opt, start_factor=0.1, total_iters=4)
    cos = S.CosineAnnealingLR(opt, T_max=10)
    sched = S.SequentialLR(opt, [warm, cos], milestones=[4])
    lrs = _lrs(sched, 8)
    np.testing.assert_allclose(lrs[:4], [0.1, 0.325, 0.55, 0.775], rtol=1e-12)
    np.testing.assert_allclose(lrs[4:], [(1 + math.cos(math.pi * t / 10)) / 2 for t in range(4)],
                               rtol=1e-12)


def test_chained_scheduler_multiplies():
    opt = _opt(1.0)
    sched = S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=2),
                                S.ExponentialLR(opt, gamma=0.9)])
    np.testing.assert_allclose(_lrs(sched, 4), [0.5, 0.45, 0.81, 0.729], rtol=1e-12)


# ------------------------------------------------------------ state_dict
BUILDERS = {
    "StepLR": lambda o: S.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda o: S.MultiStepLR(o, milestones=[20, 60, 80]),
    "ExponentialLR": lambda o: S.ExponentialLR(o, gamma=0.97),
    "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, T_max=30, eta_min=1e-4),
    "LambdaLR": lambda o: S.LambdaLR(o, lambda e: 0.99 ** e),
    "LinearLR": lambda o: S.LinearLR(o, start_factor=0.1, total_iters=70),
    "PolynomialLR": lambda o: S.PolynomialLR(o, total_iters=90, power=2.0),
    "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2),
    "OneCycleLR": lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=101),
    "SequentialLR": lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, total_iters=10),
                                                 S.ExponentialLR(o, 0.95)], milestones=[10]),
    "ChainedScheduler": lambda o: S.ChainedScheduler([S.LinearLR(o, 0.1, total_iters=10),
                                                      S.StepLR(o, 20, 0.5)]),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_scheduler_state_dict_round_trip(name):
    opt = _opt(0.1, momentum=0.9)
    full = _lrs(BUILDERS[name](opt), 100)

    opt1 = _opt(0.1, momentum=0.9)
    sched1 = BUILDERS[name](opt1)
    first = _lrs(sched1, 50)
    saved_sched, saved_opt = sched1.state_dict(), opt1.state_dict()
    assert "optimizer" not in saved_sched

    opt2 = _opt(0.1, momentum=0.9)
    sched2 = BUILDERS[name](opt2)  # schedulers first, then the optimizer's state
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    np.testing.assert_allclose(first + _lrs(sched2, 50), full, rtol=1e-12)


def test_reduce_lr_on_plateau_state_dict():
    opt = _opt(1.0)
    sched = S.ReduceLROnPlateau(opt, mode="max", patience=1)
    for v in [0.5, 0.4, 0.3]:
        sched.step(v)
    sd = sched.state_dict()
    other = S.ReduceLROnPlateau(_opt(1.0))
    other.load_state_dict(sd)
    assert (other.mode, other.best, other.num_bad_epochs, other.last_epoch) == ("max", 0.5, 0, 3)


def test_lambda_objects_keep_their_state():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, e):
            return self.rate ** e

    fn = Decay()
    sched = S.LambdaLR(_opt(), [fn])
    fn.rate = 0.25
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.25}]
    fn2 = Decay()
    S.LambdaLR(_opt(), [fn2]).load_state_dict(sd)
    assert fn2.rate == 0.25
    assert S.LambdaLR(_opt(), lambda e: 1.0).state_dict()["lr_lambdas"] == [None]


# ------------------------------------------------------------ errors and warnings
def test_errors():
    opt = _opt()
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        S.StepLR([], step_size=1)
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in "
                                       r"param_groups\[0\] when resuming"):
        S.StepLR(_opt(), step_size=1, last_epoch=5)
    with pytest.raises(ValueError, match="Starting multiplicative factor expected to be greater "
                                         "than 0"):
        S.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        S.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode avg is unknown"):
        S.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="threshold mode pct is unknown"):
        S.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
        S.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])
    with pytest.raises(ValueError, match="You must define either total_steps OR"):
        S.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="Expected positive integer total_steps, but got 0"):
        S.OneCycleLR(opt, max_lr=0.1, total_steps=0)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        S.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="max_lr must have the same length as "
                                         "optimizer.param_groups"):
        S.OneCycleLR(opt, max_lr=[0.1, 0.2], total_steps=10)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        S.OneCycleLR(_opt(kind="Adagrad"), max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        S.LambdaLR(opt, [lambda e: 1, lambda e: 1])
    with pytest.raises(ValueError, match="number of schedulers 2 and the number of milestones "
                                         "to be equal to 0"):
        S.SequentialLR(opt, [S.StepLR(opt, 1), S.StepLR(opt, 1)], milestones=[])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        S.ChainedScheduler([S.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="expects all schedulers to belong to the same optimizer"):
        S.ChainedScheduler([S.StepLR(opt, 1), S.StepLR(_opt(), 1)])
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        S.CosineAnnealingWarmRestarts(opt, T_0=0)


def test_warns_when_scheduler_steps_before_optimizer():
    opt = _opt()
    sched = S.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match=r"lr_scheduler.step\(\)` before `optimizer.step\(\)"):
        sched.step()
    opt2 = _opt()
    sched2 = S.StepLR(opt2, step_size=1)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()
