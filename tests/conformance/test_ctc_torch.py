"""CTC loss against PyTorch 2.13's ``F.ctc_loss``: losses and gradients with respect to
``log_probs`` (PyTorch's convention, ``y - gamma``) for several (T, N, C, S), repeated
labels, variable lengths, padded and concatenated targets, every reduction,
zero_infinity, a blank other than 0, unbatched input; float64 to rtol 1e-5 and float32
to 1e-4 (PyTorch's float32 gradients carry ~4e-5 of rounding on long inputs, since it
runs the recursions in float32; shendu runs them in float64 and casts, so its float32
results are also checked against PyTorch's float64 ones, to 1e-5)."""
import numpy as np
import pytest

import shendu
from shendu.nn import functional as F

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")
TF = torch.nn.functional

SHAPES = [(1, 1, 2, 1), (5, 3, 4, 2), (12, 4, 6, 5), (30, 8, 20, 10), (50, 16, 11, 12)]
DTYPES = {np.float64: dict(rtol=1e-5, atol=1e-9), np.float32: dict(rtol=1e-4, atol=1e-4)}


def _case(T, N, C, S, seed, blank=0, repeats=True):
    """log_probs (T, N, C), padded targets (N, S), input and target lengths (N,)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, C)) * 2
    lp = x - np.log(np.exp(x).sum(axis=2, keepdims=True))
    labels = np.array([c for c in range(C) if c != blank])
    targets = rng.choice(labels, (N, S))
    if repeats and S >= 2:                 # "aa": needs a blank between the two
        targets[0, :2] = targets[0, 0]
    target_lengths = rng.integers(0, S + 1, N)
    target_lengths[0] = S
    # long enough for any target (incl. repeats) in most samples, some shorter inputs
    input_lengths = rng.integers(max(1, min(T, 2 * S + 1) // 2), T + 1, N)
    input_lengths[0] = T
    return lp, targets, input_lengths, target_lengths


def _compare(lp, targets, il, tl, dtype, flat=False, **kw):
    tol = DTYPES[dtype]
    ours = shendu.tensor(lp.astype(dtype), requires_grad=True)
    theirs = torch.tensor(lp.astype(dtype), requires_grad=True)
    if flat:   # concatenated layout: the labels inside each target length, one after another
        t = np.concatenate([row[:n] for row, n in zip(targets, tl)]).astype(np.int64)
    else:
        t = targets.astype(np.int64)
    a = F.ctc_loss(ours, shendu.tensor(t), shendu.tensor(il), shendu.tensor(tl), **kw)
    b = TF.ctc_loss(theirs, torch.tensor(t), torch.tensor(il), torch.tensor(tl), **kw)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)
    assert a.dtype == dtype and tuple(a.shape) == tuple(b.shape)
    w = np.random.default_rng(0).standard_normal(tuple(b.shape)).astype(dtype)
    (a * shendu.tensor(w)).sum().backward()
    (b * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **tol)
    if dtype == np.float32:   # against PyTorch's float64 (the more accurate reference)
        exact = torch.tensor(lp, requires_grad=True)
        b = TF.ctc_loss(exact, torch.tensor(t), torch.tensor(il), torch.tensor(tl), **kw)
        (b * torch.tensor(w.astype(np.float64))).sum().backward()
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(ours.grad.numpy(), exact.grad.numpy(), rtol=1e-5, atol=1e-6)
    return a


@pytest.mark.parametrize("dtype", list(DTYPES), ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("flat", [False, True], ids=["padded", "concatenated"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T{}N{}C{}S{}".format(*s))
def test_loss_and_gradient_match_torch(shape, flat, reduction, dtype):
    lp, targets, il, tl = _case(*shape, seed=sum(shape))
    _compare(lp, targets, il, tl, dtype, flat=flat, reduction=reduction)


@pytest.mark.parametrize("dtype", list(DTYPES), ids=lambda d: np.dtype(d).name)
def test_blank_last_and_all_repeated_labels(dtype):
    lp, targets, il, tl = _case(20, 5, 5, 4, seed=3, blank=4)
    targets[1] = targets[1, 0]              # "aaaa": needs 7 frames
    _compare(lp, targets, il, tl, dtype, blank=4, reduction="none")


@pytest.mark.filterwarnings("ignore:invalid value encountered")   # inf * w summed by the test
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_impossible_alignments_match_torch(reduction, zero_infinity):
    lp, targets, il, tl = _case(6, 4, 4, 4, seed=4)
    targets[1] = 2
    il[1], tl[1] = 6, 4                     # "2222" needs 7 frames: inf
    il[2], tl[2] = 2, 3                     # 3 labels in 2 frames: inf
    if reduction == "none" or zero_infinity:
        loss = _compare(lp, targets, il, tl, np.float64, reduction=reduction,
                        zero_infinity=zero_infinity)
    else:   # an infinite loss; both give nan gradients for every sample (inf * 0)
        a = F.ctc_loss(shendu.tensor(lp), shendu.tensor(targets), il, tl, reduction=reduction)
        b = TF.ctc_loss(torch.tensor(lp), torch.tensor(targets), torch.tensor(il),
                        torch.tensor(tl), reduction=reduction)
        assert float(a) == float(b) == float("inf")
        return
    if reduction == "none":
        values = loss.detach().numpy()
        assert (values[1:3] == 0).all() if zero_infinity else np.isinf(values[1:3]).all()


def test_unbatched_matches_torch():
    lp, targets, il, tl = _case(15, 1, 6, 4, seed=5)
    for reduction in ("mean", "sum", "none"):
        ours = shendu.tensor(lp[:, 0], requires_grad=True)
        theirs = torch.tensor(lp[:, 0], requires_grad=True)
        a = F.ctc_loss(ours, shendu.tensor(targets[0]), shendu.tensor(int(il[0])),
                       shendu.tensor(int(tl[0])), reduction=reduction)
        b = TF.ctc_loss(theirs, torch.tensor(targets[0]), torch.tensor(int(il[0])),
                        torch.tensor(int(tl[0])), reduction=reduction)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10)
        assert tuple(a.shape) == tuple(b.shape) == ()
        a.backward()
        b.backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-9,
                                   atol=1e-12)


def test_module_matches_torch_module_through_log_softmax():
    """The training path: logits -> log_softmax -> CTCLoss, gradients at the logits."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((25, 6, 8)).astype(np.float32)
    targets = rng.integers(1, 8, (6, 7))
    il, tl = rng.integers(18, 26, 6), rng.integers(1, 8, 6)
    ours = shendu.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    a = shendu.nn.CTCLoss()(F.log_softmax(ours, dim=2), shendu.tensor(targets), il, tl)
    b = torch.nn.CTCLoss()(theirs.log_softmax(2), torch.tensor(targets), torch.tensor(il),
                           torch.tensor(tl))
    a.backward()
    b.backward()
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-5)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-6)
