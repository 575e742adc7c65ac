"""Losses: float64 gradcheck (and second derivatives) from one table, forward values,
numerical stability, shape/argument errors, and the nn.Module forms.

The same CASES table runs against PyTorch in tests/conformance/test_loss_torch.py.
Targets that are not differentiated (class indices, labels, class weights) are fixed
inside each case's functions, drawn from one seeded generator.
"""
import warnings

import numpy as np
import pytest

import shendu
from shendu import nn
from harness import Case, check_gradcheck, check_gradgradcheck, params, positive

try:
    import shendu.nn.functional as L  # the public home of the functional losses
    L.cross_entropy  # noqa: B018
except (ImportError, AttributeError):
    from shendu.ops import loss as L

REDUCTIONS = ("mean", "sum", "none")
_rng = np.random.default_rng(1234)


def labels(shape, C, ignore=None):
    """Class indices in [0, C); with ``ignore``, about a quarter of them set to it."""
    t = _rng.integers(0, C, shape)
    if ignore is not None:
        t[_rng.random(shape) < 0.25] = ignore
        t.reshape(-1)[0] = 0                      # at least one target counts
    return t


def signs(shape):
    return _rng.choice([-1.0, 1.0], shape)


def consts(shape, lo=0.5, hi=2.0):
    return _rng.uniform(lo, hi, shape)


def pair(name, ours, theirs, shapes, **kw):
    """A Case whose constant extra arguments are given once: ``ours(T, *tensors)`` and
    ``theirs(T, *tensors)`` get ``T`` = a function turning a NumPy constant into a
    tensor of the right library and of the inputs' float dtype."""
    def fn(*xs):
        def T(a):
            if a.dtype.kind in "iu":
                return shendu.tensor(a)
            return shendu.tensor(a.astype(xs[0].dtype))
        return ours(T, *xs)

    def torch_fn(*xs):
        import torch

        def T(a):
            if a.dtype.kind in "iu":
                return torch.tensor(a)
            return torch.tensor(a, dtype=xs[0].dtype)
        return theirs(T, *xs)
    kw = {"fwd_rtol": 1e-5, "grad_atol": 1e-6, "grad_rtol": 1e-5, **kw}
    return Case(name, fn, torch_fn, shapes, **kw)


def unit(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


def prob_rows(rng, shape):
    """Rows of class probabilities along axis 1 (axis 0 for 1-d)."""
    p = rng.uniform(0.1, 1.0, shape)
    return p / p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)


def tF():
    import torch.nn.functional as F
    return F


CASES = []

# ------------------------------------------------------------- regression
for r in REDUCTIONS:
    CASES += [
        pair(f"mse_{r}", lambda T, x, y, r=r: L.mse_loss(x, y, reduction=r),
             lambda T, x, y, r=r: tF().mse_loss(x, y, reduction=r), [(4, 5), (4, 5)]),
        pair(f"l1_{r}", lambda T, x, y, r=r: L.l1_loss(x, y, reduction=r),
             lambda T, x, y, r=r: tF().l1_loss(x, y, reduction=r), [(4, 5), (4, 5)]),
        pair(f"mse_weight_{r}", lambda T, x, y, w, r=r: L.mse_loss(x, y, reduction=r, weight=w),
             lambda T, x, y, w, r=r: tF().mse_loss(x, y, reduction=r, weight=w),
             [(3, 4), (3, 4), (3, 4)], domain=[np.random.Generator.standard_normal] * 2
             + [positive]),
        pair(f"l1_weight_{r}", lambda T, x, y, w, r=r: L.l1_loss(x, y, reduction=r, weight=w),
             lambda T, x, y, w, r=r: tF().l1_loss(x, y, reduction=r, weight=w),
             [(3, 4), (3, 4), (3, 4)], domain=[np.random.Generator.standard_normal] * 2
             + [positive]),
        pair(f"huber_weight_{r}",
             lambda T, x, y, w, r=r: L.huber_loss(x, y, reduction=r, delta=0.7, weight=w),
             lambda T, x, y, w, r=r: tF().huber_loss(x, y, reduction=r, delta=0.7, weight=w),
             [(3, 4), (3, 4), (3, 4)], domain=[np.random.Generator.standard_normal] * 2
             + [positive]),
    ]
    for beta in (1.0, 0.5, 0.0):
        CASES.append(pair(f"smooth_l1_beta{beta}_{r}",
                          lambda T, x, y, r=r, b=beta: L.smooth_l1_loss(x, y, reduction=r, beta=b),
                          lambda T, x, y, r=r, b=beta: tF().smooth_l1_loss(x, y, reduction=r, beta=b),
                          [(4, 5), (4, 5)]))
    for delta in (1.0, 2.0, 0.3):
        CASES.append(pair(f"huber_delta{delta}_{r}",
                          lambda T, x, y, r=r, d=delta: L.huber_loss(x, y, reduction=r, delta=d),
                          lambda T, x, y, r=r, d=delta: tF().huber_loss(x, y, reduction=r, delta=d),
                          [(4, 5), (4, 5)], domain=lambda rng, s: 2 * rng.standard_normal(s)))
CASES += [
    pair("mse_scalar", lambda T, x, y: L.mse_loss(x, y), lambda T, x, y: tF().mse_loss(x, y),
         [(), ()]),
    pair("l1_4d", lambda T, x, y: L.l1_loss(x, y), lambda T, x, y: tF().l1_loss(x, y),
         [(2, 3, 2, 2), (2, 3, 2, 2)]),
]

# ----------------------------------------------------------------- binary
W35, PW5, PW35 = consts((3, 5)), consts((5,), 0.3, 4.0), consts((3, 5), 0.3, 4.0)
for r in REDUCTIONS:
    CASES += [
        pair(f"bce_{r}", lambda T, x, y, r=r: L.binary_cross_entropy(x, y, reduction=r),
             lambda T, x, y, r=r: tF().binary_cross_entropy(x, y, reduction=r),
             [(3, 5), (3, 5)], domain=unit),
        pair(f"bce_weight_{r}",
             lambda T, x, y, r=r: L.binary_cross_entropy(x, y, T(W35[0]), reduction=r),
             lambda T, x, y, r=r: tF().binary_cross_entropy(x, y, T(W35[0]), reduction=r),
             [(3, 5), (3, 5)], domain=unit),
        pair(f"bce_logits_{r}",
             lambda T, x, y, r=r: L.binary_cross_entropy_with_logits(x, y, reduction=r),
             lambda T, x, y, r=r: tF().binary_cross_entropy_with_logits(x, y, reduction=r),
             [(3, 5), (3, 5)], domain=[lambda rng, s: 3 * rng.standard_normal(s), unit]),
        pair(f"bce_logits_weight_posweight_{r}",
             lambda T, x, y, r=r: L.binary_cross_entropy_with_logits(
                 x, y, T(W35), reduction=r, pos_weight=T(PW5)),
             lambda T, x, y, r=r: tF().binary_cross_entropy_with_logits(
                 x, y, T(W35), reduction=r, pos_weight=T(PW5)),
             [(3, 5), (3, 5)], domain=[lambda rng, s: 3 * rng.standard_normal(s), unit]),
    ]
CASES += [
    pair("bce_logits_posweight_full", lambda T, x, y: L.binary_cross_entropy_with_logits(
             x, y, pos_weight=T(PW35)),
         lambda T, x, y: tF().binary_cross_entropy_with_logits(x, y, pos_weight=T(PW35)),
         [(3, 5), (3, 5)], domain=[lambda rng, s: 3 * rng.standard_normal(s), unit]),
    pair("bce_scalar", lambda T, x, y: L.binary_cross_entropy(x, y),
         lambda T, x, y: tF().binary_cross_entropy(x, y), [(), ()], domain=unit),
]

# ------------------------------------------------------------- multiclass
T6, T6I = labels((6,), 4), labels((6,), 4, ignore=-100)
T6J = labels((6,), 4, ignore=2)          # ignore_index inside the class range
T2D, T2DI = labels((2, 3, 2), 4), labels((2, 3, 2), 4, ignore=-1)
W4 = consts((4,))
T0 = np.array(2)
CE_VARIANTS = [   # (name, input shape, target, kwargs factory(T))
    ("N_C", (6, 4), T6, lambda T: {}),
    ("weight", (6, 4), T6, lambda T: {"weight": T(W4)}),
    ("ignore", (6, 4), T6I, lambda T: {}),
    ("ignore_in_range", (6, 4), T6J, lambda T: {"ignore_index": 2}),
    ("weight_ignore", (6, 4), T6I, lambda T: {"weight": T(W4)}),
    ("NCd1d2", (2, 4, 3, 2), T2D, lambda T: {}),
    ("NCd1d2_weight_ignore", (2, 4, 3, 2), T2DI, lambda T: {"weight": T(W4), "ignore_index": -1}),
    ("unbatched", (4,), T0, lambda T: {}),
]
for r in REDUCTIONS:
    for vname, shape, tgt, kw in CE_VARIANTS:
        CASES.append(pair(f"cross_entropy_{vname}_{r}",
                          lambda T, x, t=tgt, kw=kw, r=r: L.cross_entropy(x, T(t), reduction=r, **kw(T)),
                          lambda T, x, t=tgt, kw=kw, r=r: tF().cross_entropy(x, T(t), reduction=r, **kw(T)),
                          [shape], domain=lambda rng, s: 2 * rng.standard_normal(s)))
        CASES.append(pair(f"nll_{vname}_{r}",
                          lambda T, x, t=tgt, kw=kw, r=r: L.nll_loss(x, T(t), reduction=r, **kw(T)),
                          lambda T, x, t=tgt, kw=kw, r=r: tF().nll_loss(x, T(t), reduction=r, **kw(T)),
                          [shape]))
        CASES.append(pair(f"cross_entropy_smooth_{vname}_{r}",
                          lambda T, x, t=tgt, kw=kw, r=r: L.cross_entropy(
                              x, T(t), reduction=r, label_smoothing=0.2, **kw(T)),
                          lambda T, x, t=tgt, kw=kw, r=r: tF().cross_entropy(
                              x, T(t), reduction=r, label_smoothing=0.2, **kw(T)),
                          [shape], domain=lambda rng, s: 2 * rng.standard_normal(s)))
    for smooth in (0.0, 0.3):
        for wname, kw in (("", lambda T: {}), ("_weight", lambda T: {"weight": T(W4)})):
            for shape in ((6, 4), (2, 4, 3, 2), (4,)):
                CASES.append(pair(
                    f"cross_entropy_probs{wname}_smooth{smooth}_{r}",
                    lambda T, x, q, kw=kw, r=r, s=smooth: L.cross_entropy(
                        x, q, reduction=r, label_smoothing=s, **kw(T)),
                    lambda T, x, q, kw=kw, r=r, s=smooth: tF().cross_entropy(
                        x, q, reduction=r, label_smoothing=s, **kw(T)),
                    [shape, shape], domain=[lambda rng, s: 2 * rng.standard_normal(s), prob_rows]))
    for p in (1, 2):
        for wname, kw in (("", lambda T: {}), ("_weight", lambda T: {"weight": T(W4)})):
            CASES.append(pair(f"multi_margin_p{p}{wname}_{r}",
                              lambda T, x, kw=kw, r=r, p=p: L.multi_margin_loss(
                                  x, T(T6), p=p, margin=0.8, reduction=r, **kw(T)),
                              lambda T, x, kw=kw, r=r, p=p: tF().multi_margin_loss(
                                  x, T(T6), p=p, margin=0.8, reduction=r, **kw(T)),
                              [(6, 4)]))
CASES.append(pair("multi_margin_p2_of_tanh",   # second derivatives carry g through the backward
                  lambda T, x: L.multi_margin_loss(x.tanh(), T(T6), p=2),
                  lambda T, x: tF().multi_margin_loss(x.tanh(), T(T6), p=2), [(6, 4)]))
CASES.append(pair("multi_margin_unbatched", lambda T, x: L.multi_margin_loss(x, T(T0)),
                  lambda T, x: tF().multi_margin_loss(x, T(T0)), [(4,)]))

# ------------------------------------------------------------- divergence
for r in ("mean", "sum", "none", "batchmean"):
    CASES += [
        pair(f"kl_div_{r}", lambda T, x, y, r=r: L.kl_div(x, y, reduction=r),
             lambda T, x, y, r=r: tF().kl_div(x, y, reduction=r), [(3, 4), (3, 4)],
             domain=[np.random.Generator.standard_normal, lambda rng, s: rng.uniform(0.1, 1, s)]),
        pair(f"kl_div_log_target_{r}", lambda T, x, y, r=r: L.kl_div(x, y, reduction=r, log_target=True),
             lambda T, x, y, r=r: tF().kl_div(x, y, reduction=r, log_target=True), [(3, 4), (3, 4)]),
    ]
Y_ZEROS = np.where(_rng.random((3, 4)) < 0.4, 0.0, _rng.uniform(0.1, 1, (3, 4)))
CASES.append(pair("kl_div_zero_targets", lambda T, x: L.kl_div(x, T(Y_ZEROS), reduction="sum"),
                  lambda T, x: tF().kl_div(x, T(Y_ZEROS), reduction="sum"), [(3, 4)]))
for r in REDUCTIONS:
    for log_input, full in ((True, False), (False, False), (True, True)):
        CASES.append(pair(
            f"poisson_nll_log{log_input}_full{full}_{r}",
            lambda T, x, y, r=r, li=log_input, f=full: L.poisson_nll_loss(x, y, li, f, reduction=r),
            lambda T, x, y, r=r, li=log_input, f=full: tF().poisson_nll_loss(x, y, li, f, reduction=r),
            [(3, 4), (3, 4)], differentiable=[True, False],
            domain=[positive if not log_input else np.random.Generator.standard_normal,
                    lambda rng, s: rng.integers(0, 5, s).astype(float)]))

# ----------------------------------------------------------------- margins
Y6, Y0, Y34 = signs((6,)), np.array(-1.0), signs((3, 4))
for r in REDUCTIONS:
    for margin in (0.0, 0.4):
        CASES.append(pair(f"cosine_embedding_m{margin}_{r}",
                          lambda T, a, b, r=r, m=margin: L.cosine_embedding_loss(a, b, T(Y6), m, reduction=r),
                          lambda T, a, b, r=r, m=margin: tF().cosine_embedding_loss(a, b, T(Y6), m, reduction=r),
                          [(6, 3), (6, 3)]))
        CASES.append(pair(f"margin_ranking_m{margin}_{r}",
                          lambda T, a, b, y, r=r, m=margin: L.margin_ranking_loss(a, b, y, m, reduction=r),
                          lambda T, a, b, y, r=r, m=margin: tF().margin_ranking_loss(a, b, y, m, reduction=r),
                          [(6,), (6,), (6,)], domain=[np.random.Generator.standard_normal] * 2
                          + [lambda rng, s: rng.choice([-1.0, 1.0], s)]))
    for margin in (1.0, 0.5):
        CASES.append(pair(f"hinge_embedding_m{margin}_{r}",
                          lambda T, x, r=r, m=margin: L.hinge_embedding_loss(x, T(Y34), m, reduction=r),
                          lambda T, x, r=r, m=margin: tF().hinge_embedding_loss(x, T(Y34), m, reduction=r),
                          [(3, 4)]))
    CASES.append(pair(f"soft_margin_{r}", lambda T, x, y, r=r: L.soft_margin_loss(x, y, reduction=r),
                      lambda T, x, y, r=r: tF().soft_margin_loss(x, y, reduction=r), [(3, 4), (3, 4)],
                      differentiable=[True, False],   # PyTorch has no target gradient here
                      domain=[np.random.Generator.standard_normal, lambda rng, s: rng.choice([-1.0, 1.0], s)]))
CASES += [
    Case("soft_margin_target_grad", lambda x, y: L.soft_margin_loss(x, y), None, [(3, 4), (3, 4)]),
    pair("cosine_embedding_unbatched", lambda T, a, b: L.cosine_embedding_loss(a, b, T(Y0), 0.2),
         lambda T, a, b: tF().cosine_embedding_loss(a, b, T(Y0), 0.2), [(3,), (3,)]),
    pair("cosine_embedding_broadcast", lambda T, a, b: L.cosine_embedding_loss(a, b, T(Y6)),
         lambda T, a, b: tF().cosine_embedding_loss(a, b, T(Y6)), [(6, 3), (1, 3)]),
    pair("margin_ranking_broadcast", lambda T, a, b: L.margin_ranking_loss(a, b, T(Y34), 0.1),
         lambda T, a, b: tF().margin_ranking_loss(a, b, T(Y34), 0.1), [(3, 4), (1, 4)]),
]


@pytest.mark.filterwarnings("ignore:kl_div. reduction='mean'")
@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


@pytest.mark.filterwarnings("ignore:kl_div. reduction='mean'")
@params([c for c in CASES if c.double])
def test_gradgradcheck(case):
    check_gradgradcheck(case)


# ----------------------------------------------------------- forward values
def t(x, **kw):
    return shendu.tensor(np.asarray(x, dtype=np.float64), **kw)


def test_docstring_values():
    close = lambda a, b: np.testing.assert_allclose(float(a), b, rtol=1e-4, atol=1e-4)  # noqa: E731
    close(L.mse_loss(t([1.0, 2.0]), t([1.0, 4.0])), 2.0)
    close(L.l1_loss(t([1.0, 2.0]), t([1.0, 4.0])), 1.0)
    close(L.smooth_l1_loss(t([0.5, 3.0]), t([0.0, 0.0])), (0.125 + 2.5) / 2)
    close(L.huber_loss(t([0.5, 3.0]), t([0.0, 0.0]), delta=2.0), (0.125 + 2 * (3 - 1)) / 2)
    close(L.binary_cross_entropy(t([0.8, 0.4]), t([1.0, 0.0])), -(np.log(0.8) + np.log(0.6)) / 2)
    close(L.binary_cross_entropy_with_logits(t([2.0, -1.0]), t([1.0, 0.0])),
          (np.log1p(np.exp(-2.0)) + np.log1p(np.exp(-1.0))) / 2)
    x = np.array([[2.0, 0.5, -1.0], [0.0, 1.0, 0.0]])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    close(L.cross_entropy(t(x), shendu.tensor([0, 1])), -(logp[0, 0] + logp[1, 1]) / 2)
    close(L.nll_loss(t([[-0.1, -2.4], [-1.2, -0.4]]), shendu.tensor([0, 1])), 0.25)
    close(L.kl_div(t([[0.25, 0.75]]).log(), t([[0.5, 0.5]]), reduction="batchmean"),
          0.5 * np.log(2) + 0.5 * np.log(0.5 / 0.75))
    close(L.poisson_nll_loss(t([0.0, 1.0]), t([1.0, 2.0])), (1 + np.e - 2) / 2)
    close(L.cosine_embedding_loss(t([[1.0, 0.0]]), t([[1.0, 1.0]]), shendu.tensor([1])),
          1 - 1 / np.sqrt(2))
    close(L.hinge_embedding_loss(t([0.3, 0.4]), t([1.0, -1.0])), (0.3 + 0.6) / 2)
    close(L.margin_ranking_loss(t([0.2]), t([0.5]), t([1.0])), 0.3)
    close(L.soft_margin_loss(t([2.0, -1.0]), t([1.0, -1.0])),
          (np.log1p(np.exp(-2.0)) + np.log1p(np.exp(-1.0))) / 2)
    close(L.multi_margin_loss(t([[0.1, 0.2, 0.4, 0.8]]), shendu.tensor([3])),
          (0.3 + 0.4 + 0.6) / 4)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    x = np.random.default_rng(0).standard_normal((5, 3))
    target = np.array([0, 2, 1, 1, 0])
    logits = t(x, requires_grad=True)
    L.cross_entropy(logits, shendu.tensor(target)).backward()
    p = np.exp(x) / np.exp(x).sum(1, keepdims=True)
    np.testing.assert_allclose(logits.grad.numpy(), (p - np.eye(3)[target]) / 5, atol=1e-12)


def test_cross_entropy_mean_with_weights_divides_by_target_weight_sum():
    x = np.random.default_rng(1).standard_normal((4, 3))
    target, w = np.array([0, 2, 2, -100]), np.array([1.0, 2.0, 0.5])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    picked = -logp[np.arange(3), target[:3]] * w[target[:3]]
    got = L.cross_entropy(t(x), shendu.tensor(target), t(w))
    np.testing.assert_allclose(float(got), picked.sum() / w[target[:3]].sum(), rtol=1e-12)
    none = L.cross_entropy(t(x), shendu.tensor(target), t(w), reduction="none")
    np.testing.assert_allclose(none.numpy(), list(picked) + [0.0], rtol=1e-12)


def test_reductions_relate():
    rng = np.random.default_rng(2)
    x, y = t(rng.standard_normal((3, 4))), t(rng.standard_normal((3, 4)))
    for f in (L.mse_loss, L.l1_loss, L.smooth_l1_loss, L.huber_loss, L.soft_margin_loss):
        none = f(x, y, reduction="none").numpy()
        assert none.shape == (3, 4)
        np.testing.assert_allclose(float(f(x, y, reduction="sum")), none.sum(), rtol=1e-12)
        np.testing.assert_allclose(float(f(x, y)), none.mean(), rtol=1e-12)


def test_float32_stays_float32():
    x = shendu.randn(4, 3)
    assert L.cross_entropy(x, shendu.tensor([0, 1, 2, 0])).dtype == shendu.float32
    assert L.mse_loss(x, shendu.tensor(np.zeros((4, 3)))).dtype == shendu.float32
    assert L.mse_loss(x, shendu.tensor(np.zeros((4, 3), dtype=np.int64))).dtype == shendu.float32
    assert L.binary_cross_entropy_with_logits(x, shendu.zeros(4, 3),
                                              pos_weight=np.ones(3)).dtype == shendu.float32


def test_target_gradient_of_regression_losses():
    x = t([1.0, 2.0], requires_grad=True)
    y = t([0.0, 4.0], requires_grad=True)
    L.mse_loss(x, y).backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -2.0])
    np.testing.assert_allclose(y.grad.numpy(), [-1.0, 2.0])


def test_all_ignored_mean_is_nan_like_pytorch():
    x = t(np.zeros((2, 3)), requires_grad=True)
    loss = L.cross_entropy(x, shendu.tensor([-100, -100]))
    assert np.isnan(float(loss))
    assert float(L.cross_entropy(x, shendu.tensor([-100, -100]), reduction="sum")) == 0.0


# --------------------------------------------------------------- stability
def test_cross_entropy_huge_logits_finite():
    x = shendu.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], requires_grad=True)
    loss = L.cross_entropy(x, shendu.tensor([1, 0]))
    loss.backward()
    # row 0: logsumexp = 1e4, picked 0 -> 1e4; row 1: 1e4 + log 2 - 0
    np.testing.assert_allclose(float(loss), (1e4 + 1e4 + np.log(2)) / 2, rtol=1e-6)
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, -0.5, 0.0], [-0.5, 0.25, 0.25]], atol=1e-6)


def test_bce_with_logits_huge_scores_finite():
    x = shendu.tensor([1e3, -1e3, 1e3, -1e3], requires_grad=True)
    y = shendu.tensor([1.0, 0.0, 0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no overflow warnings either
        loss = L.binary_cross_entropy_with_logits(x, y, reduction="none",
                                                  pos_weight=shendu.tensor([2.0]))
        loss.sum().backward()
    np.testing.assert_allclose(loss.detach().numpy(), [0.0, 0.0, 1e3, 2e3])
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 1.0, -2.0])


def test_bce_clamps_log_at_minus_100():
    x = shendu.tensor([0.0, 1.0, 1.0], requires_grad=True)
    loss = L.binary_cross_entropy(x, shendu.tensor([1.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0, 0.0])
    loss.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_soft_margin_large_margin_finite():
    loss = L.soft_margin_loss(t([-1e3, 1e3]), t([1.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [1e3, 0.0])


# ------------------------------------------------------------------ errors
def test_bad_reduction():
    x = shendu.randn(3)
    with pytest.raises(ValueError, match=r"mse_loss: reduction must be 'mean', 'sum' or "
                                         r"'none', got 'avg'"):
        L.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match=r"cross_entropy: reduction must be"):
        L.cross_entropy(shendu.randn(2, 3), shendu.tensor([0, 1]), reduction="batchmean")
    with pytest.raises(ValueError, match=r"kl_div: reduction must be 'mean', 'batchmean', "
                                         r"'sum' or 'none'"):
        L.kl_div(x, x, reduction="avg")


def test_mse_broadcast_warns_and_broadcasts_like_pytorch():
    x, y = shendu.randn(32, 1), shendu.randn(32)
    with pytest.warns(UserWarning, match=r"mse_loss: input \(32, 1\) and target \(32,\) have "
                                         r"different shapes; they broadcast to \(32, 32\)"):
        loss = L.mse_loss(x, y, reduction="none")
    assert loss.shape == (32, 32)
    with pytest.raises(ValueError, match=r"mse_loss: input \(32, 10\) and target \(32, 5\) "
                                         "have different shapes that do not broadcast"):
        L.mse_loss(shendu.randn(32, 10), shendu.randn(32, 5))


def test_broadcast_gradient_has_input_shapes():
    x = t(np.ones((3, 1)), requires_grad=True)
    y = t(np.arange(4.0), requires_grad=True)
    with pytest.warns(UserWarning):
        L.l1_loss(x, y, reduction="sum").backward()
    assert x.grad.shape == (3, 1) and y.grad.shape == (4,)
    np.testing.assert_allclose(x.grad.numpy(), [[-1.0]] * 3)   # sum of signs of 1 - [0, 1, 2, 3]
    np.testing.assert_allclose(y.grad.numpy(), [-3.0, 0.0, 3.0, 3.0])


def test_cross_entropy_shape_errors():
    x = shendu.randn(32, 5)
    with pytest.raises(ValueError, match=r"cross_entropy: target of shape \(32, 10\) with "
                                         r"class probabilities must match input \(32, 5\)"):
        L.cross_entropy(x, shendu.rand(32, 10))
    with pytest.raises(ValueError, match=r"cross_entropy: target of shape \(31,\) does not "
                                         r"match input \(32, 5\): class indices for it have "
                                         r"shape \(32,\)"):
        L.cross_entropy(x, shendu.tensor(np.zeros(31, dtype=np.int64)))
    with pytest.raises(TypeError, match=r"cross_entropy: target of shape \(32,\) holds class "
                                        r"indices but has dtype float32; convert it with "
                                        r"\.long\(\)"):
        L.cross_entropy(x, shendu.zeros(32))
    with pytest.raises(TypeError, match=r"read as class probabilities, but has dtype int64"):
        L.cross_entropy(x, shendu.tensor(np.zeros((32, 5), dtype=np.int64)))
    with pytest.raises(IndexError, match=r"cross_entropy: target class 5 is out of range for "
                                         r"input \(32, 5\) with 5 classes \(expected 0..4"):
        L.cross_entropy(x, shendu.tensor(np.full(32, 5)))
    with pytest.raises(IndexError, match=r"target class -1 is out of range"):
        L.nll_loss(x, shendu.tensor(np.full(32, -1)))
    with pytest.raises(ValueError, match=r"cross_entropy: weight of shape \(4,\) must have "
                                         r"one entry per class, shape \(5,\)"):
        L.cross_entropy(x, shendu.tensor(np.zeros(32, dtype=np.int64)), shendu.ones(4))
    with pytest.raises(ValueError, match=r"label_smoothing must be between 0.0 and 1.0"):
        L.cross_entropy(x, shendu.tensor(np.zeros(32, dtype=np.int64)), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"cross_entropy: input must have a class dimension"):
        L.cross_entropy(shendu.tensor(1.0), shendu.tensor(0))
    with pytest.raises(TypeError, match=r"cross_entropy: input must be a floating-point "
                                        r"tensor, got int64"):
        L.cross_entropy(shendu.tensor([[1, 2]]), shendu.tensor([0]))


def test_binary_errors():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: target \(32,\) must have the "
                                         r"same shape as input \(32, 1\)"):
        L.binary_cross_entropy(shendu.rand(32, 1), shendu.rand(32))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities "
                                         r"in \[0, 1\], got values from -0.5 to 2; apply sigmoid"):
        L.binary_cross_entropy(shendu.tensor([-0.5, 2.0]), shendu.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: target \(4, 2\) "
                                         r"must have the same shape as input \(4, 3\)"):
        L.binary_cross_entropy_with_logits(shendu.randn(4, 3), shendu.rand(4, 2))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\) does not broadcast to "
                                         r"the input's shape \(4, 3\)"):
        L.binary_cross_entropy_with_logits(shendu.randn(4, 3), shendu.rand(4, 3),
                                           pos_weight=shendu.ones(2))


def test_other_argument_errors():
    x = shendu.randn(4, 3)
    with pytest.raises(ValueError, match=r"smooth_l1_loss: beta must be >= 0, got -1"):
        L.smooth_l1_loss(x, x, beta=-1)
    with pytest.raises(ValueError, match=r"huber_loss: delta must be > 0, got 0"):
        L.huber_loss(x, x, delta=0)
    with pytest.raises(ValueError, match=r"mse_loss: weight of shape \(3,\) must have the "
                                         r"input's shape \(4, 3\)"):
        L.mse_loss(x, x, weight=shendu.ones(3))
    with pytest.raises(ValueError, match=r"multi_margin_loss: p must be 1 or 2, got 3"):
        L.multi_margin_loss(x, shendu.tensor([0, 1, 2, 0]), p=3)
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: expected inputs \(N, D\) "
                                         r"with target \(N,\)"):
        L.cosine_embedding_loss(x, x, shendu.ones(4, 1))
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: target \(3,\) must have one "
                                         r"entry per pair, shape \(4,\)"):
        L.cosine_embedding_loss(x, x, shendu.ones(3))
    with pytest.raises(ValueError, match=r"margin_ranking_loss: input1, input2 and target "
                                         r"must have the same number of dimensions"):
        L.margin_ranking_loss(x, x, shendu.ones(3))
    with pytest.warns(UserWarning, match=r"kl_div: reduction='mean' divides"):
        L.kl_div(x, x.exp())


def test_double_backward_through_cross_entropy_hessian_vector():
    """d/dx <grad, v> of mean cross-entropy: H v with H = (diag(p) - p p^T) / N per row."""
    rng = np.random.default_rng(3)
    x0, v = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    x = t(x0, requires_grad=True)
    (g,) = shendu.autograd.grad(L.cross_entropy(x, shendu.tensor([0, 2])), [x],
                                create_graph=True)
    (hv,) = shendu.autograd.grad((g * t(v)).sum(), [x])
    p = np.exp(x0) / np.exp(x0).sum(1, keepdims=True)
    expected = (p * v - p * (p * v).sum(1, keepdims=True)) / 2
    np.testing.assert_allclose(hv.numpy(), expected, atol=1e-12)


# ------------------------------------------------------------------ modules
def _module_pairs():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    p, b = rng.uniform(0.1, 0.9, (4, 3)), rng.uniform(0, 1, (4, 3))
    idx, w = np.array([0, 2, 1, 2]), rng.uniform(0.5, 2, 3)
    s4 = np.array([1.0, -1.0, -1.0, 1.0])
    return [
        (nn.L1Loss(), L.l1_loss, (x, y), {}),
        (nn.MSELoss("sum"), L.mse_loss, (x, y), {"reduction": "sum"}),
        (nn.SmoothL1Loss(beta=0.5), L.smooth_l1_loss, (x, y), {"beta": 0.5}),
        (nn.HuberLoss("none", 0.5), L.huber_loss, (x, y), {"reduction": "none", "delta": 0.5}),
        (nn.CrossEntropyLoss(shendu.tensor(w), ignore_index=1, label_smoothing=0.1),
         L.cross_entropy, (x, idx), {"weight": shendu.tensor(w), "ignore_index": 1,
                                     "label_smoothing": 0.1}),
        (nn.NLLLoss(w, reduction="sum"), L.nll_loss, (x, idx),
         {"weight": shendu.tensor(w), "reduction": "sum"}),
        (nn.BCELoss(shendu.tensor(w)), L.binary_cross_entropy, (p, b), {"weight": shendu.tensor(w)}),
        (nn.BCEWithLogitsLoss(pos_weight=w), L.binary_cross_entropy_with_logits, (x, b),
         {"pos_weight": shendu.tensor(w)}),
        (nn.KLDivLoss("batchmean", log_target=True), L.kl_div, (x, y),
         {"reduction": "batchmean", "log_target": True}),
        (nn.PoissonNLLLoss(full=True), L.poisson_nll_loss, (x, np.abs(y) * 3),
         {"full": True}),
        (nn.CosineEmbeddingLoss(0.3), L.cosine_embedding_loss, (x, y, s4), {"margin": 0.3}),
        (nn.MarginRankingLoss(0.2), L.margin_ranking_loss, (x[:, 0], y[:, 0], s4), {"margin": 0.2}),
        (nn.HingeEmbeddingLoss(0.7), L.hinge_embedding_loss, (x[:, 0], s4), {"margin": 0.7}),
        (nn.SoftMarginLoss(), L.soft_margin_loss, (x[:, 0], s4), {}),
        (nn.MultiMarginLoss(2, 0.5, w), L.multi_margin_loss, (x, idx),
         {"p": 2, "margin": 0.5, "weight": shendu.tensor(w)}),
    ]


def _as_args(arrays):
    return [shendu.tensor(a) if a.dtype.kind in "iu" else t(a) for a in arrays]


@pytest.mark.parametrize("index", range(15))
def test_module_calls_functional(index):
    module, fn, arrays, kw = _module_pairs()[index]
    ours = module(*_as_args(arrays))
    ref = fn(*_as_args(arrays), **kw)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)
    assert list(module.parameters()) == []


def test_module_repr_shows_non_default_options():
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1, ignore_index=0)) == \
        "CrossEntropyLoss(ignore_index=0, label_smoothing=0.1)"
    assert repr(nn.NLLLoss(shendu.ones(5), reduction="sum")) == \
        "NLLLoss(reduction='sum', weight=<tensor of shape (5,)>)"
    assert repr(nn.HuberLoss(delta=2.0)) == "HuberLoss(delta=2.0)"
    assert repr(nn.HingeEmbeddingLoss()) == "HingeEmbeddingLoss()"
    assert repr(nn.HingeEmbeddingLoss(margin=2.0)) == "HingeEmbeddingLoss(margin=2.0)"
    assert repr(nn.KLDivLoss(reduction="batchmean")) == "KLDivLoss(reduction='batchmean')"
    assert repr(nn.BCEWithLogitsLoss(pos_weight=shendu.ones(3))) == \
        "BCEWithLogitsLoss(pos_weight=<tensor of shape (3,)>)"


def test_module_weights_are_buffers():
    crit = nn.CrossEntropyLoss(weight=shendu.tensor([1.0, 2.0]))
    assert list(crit.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=[3.0]).state_dict()) == ["pos_weight"]
    assert crit.double().weight.dtype == shendu.float64


def test_module_argument_errors():
    with pytest.raises(ValueError, match=r"MSELoss: reduction must be 'mean', 'sum' or "
                                         r"'none', got 'avg'"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: reduction must be"):
        nn.CrossEntropyLoss(reduction="batchmean")
    nn.KLDivLoss(reduction="batchmean")   # allowed there
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: label_smoothing must be between"):
        nn.CrossEntropyLoss(label_smoothing=-0.1)
    with pytest.raises(ValueError, match=r"HuberLoss: delta must be > 0"):
        nn.HuberLoss(delta=0.0)
    with pytest.raises(ValueError, match=r"SmoothL1Loss: beta must be >= 0"):
        nn.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ValueError, match=r"MultiMarginLoss: p must be 1 or 2, got 3"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match=r"MultiMarginLoss: weight must be 1-D"):
        nn.MultiMarginLoss(weight=shendu.ones(2, 2))


def test_training_step_with_module_decreases_loss():
    rng = np.random.default_rng(0)
    x = shendu.tensor(rng.standard_normal((64, 4)).astype(np.float32))
    y = shendu.tensor((x.numpy() @ rng.standard_normal((4, 3))).argmax(1))
    model, criterion = nn.Linear(4, 3), nn.CrossEntropyLoss()
    first = None
    for _ in range(50):
        loss = criterion(model(x), y)
        first = float(loss) if first is None else first
        model.zero_grad()
        loss.backward()
        with shendu.no_grad():
            for p in model.parameters():
                p.sub_(p.grad, alpha=0.5)
    assert float(loss) < 0.5 * first


def test_docstring_examples_run():
    import doctest

    import shendu.nn.loss
    import shendu.ops.loss
    import shendu.ops.loss_margin
    import shendu.ops.loss_multiclass
    for module in (shendu.ops.loss, shendu.ops.loss_multiclass, shendu.ops.loss_margin,
                   shendu.nn.loss):
        result = doctest.testmod(module, extraglobs={"F": L, "shendu": shendu, "nn": nn})
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_kl_div_zero_target_gets_zero_gradient():
    x = t([0.3, -0.2, 0.5], requires_grad=True)
    y = t([0.0, 0.4, 0.6], requires_grad=True)
    L.kl_div(x, y, reduction="sum").backward()
    np.testing.assert_allclose(y.grad.numpy(), [0.0, np.log(0.4) + 1.2, np.log(0.6) + 0.5])
    np.testing.assert_allclose(x.grad.numpy(), [0.0, -0.4, -0.6])
