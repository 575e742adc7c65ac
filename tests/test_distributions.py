"""shendu.distributions (Categorical, Normal, kl_divergence) without PyTorch: float64
central-difference gradient checks of log_prob, entropy, kl_divergence and rsample with
respect to the parameters, closed-form values, shapes and broadcasting, seeded sampling
(shapes, empirical frequencies and moments), and the errors on bad input. The comparison
with ``torch.distributions`` is in tests/conformance/test_distributions_torch.py."""
import math

import numpy as np
import pytest

import shendu
from shendu.autograd import gradcheck
from shendu.distributions import Bernoulli, Categorical, Distribution, Normal, kl_divergence


def f64(a, grad=True):
    return shendu.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def rand(shape, seed=0, low=None):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    return a if low is None else low + np.abs(a)


# ------------------------------------------------------------------ gradient checks
@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 5)])
def test_categorical_logits_gradcheck(shape):
    logits = f64(rand(shape, 1))
    value = shendu.tensor(np.random.default_rng(2).integers(0, shape[-1], shape[:-1]))
    assert gradcheck(lambda l: Categorical(logits=l).log_prob(value), [logits])
    assert gradcheck(lambda l: Categorical(logits=l).entropy(), [logits])
    assert gradcheck(lambda l: Categorical(logits=l).probs, [logits])


@pytest.mark.parametrize("shape", [(4,), (3, 4)])
def test_categorical_probs_gradcheck(shape):
    # unnormalised positive probs: the gradient goes through the normalisation too
    probs = f64(rand(shape, 3, low=0.2))
    value = shendu.tensor(np.random.default_rng(4).integers(0, shape[-1], shape[:-1]))
    assert gradcheck(lambda p: Categorical(probs=p).log_prob(value), [probs])
    assert gradcheck(lambda p: Categorical(probs=p).entropy(), [probs])
    assert gradcheck(lambda p: Categorical(probs=p).logits, [probs])


def test_categorical_log_prob_broadcast_value_gradcheck():
    logits = f64(rand((3, 4), 5))
    value = shendu.tensor([[0], [3]])            # (2, 1) against batch (3,) -> (2, 3)
    assert Categorical(logits=logits).log_prob(value).shape == (2, 3)
    assert gradcheck(lambda l: Categorical(logits=l).log_prob(value), [logits])


def test_categorical_kl_gradcheck():
    p, q = f64(rand((3, 5), 6)), f64(rand((3, 5), 7))
    assert gradcheck(lambda a, b: kl_divergence(Categorical(logits=a), Categorical(logits=b)),
                     [p, q])
    pp, qq = f64(rand((3, 5), 8, low=0.1)), f64(rand((3, 5), 9, low=0.1))
    assert gradcheck(lambda a, b: kl_divergence(Categorical(probs=a), Categorical(probs=b)),
                     [pp, qq])


@pytest.mark.parametrize("loc_shape, scale_shape, value_shape", [
    ((5,), (5,), (5,)),
    ((3, 1), (4,), (3, 4)),        # loc and scale broadcast to batch (3, 4)
    ((2, 3), (), (4, 2, 3)),       # a value with an extra leading (sample) dimension
    ((), (3,), (2, 1)),            # the value broadcasts too: (2, 1) x (3,) -> (2, 3)
])
def test_normal_log_prob_gradcheck(loc_shape, scale_shape, value_shape):
    loc, scale = f64(rand(loc_shape, 1)), f64(rand(scale_shape, 2, low=0.5))
    value = f64(rand(value_shape, 3))
    assert gradcheck(lambda m, s, x: Normal(m, s).log_prob(x), [loc, scale, value])


def test_normal_entropy_and_kl_gradcheck():
    scale = f64(rand((3, 1), 4, low=0.3))
    assert gradcheck(lambda s: Normal(f64(np.zeros(4), False), s).entropy(), [scale])
    ml, sl = f64(rand((3, 1), 5)), f64(rand((3, 1), 6, low=0.3))
    mr, sr = f64(rand((4,), 7)), f64(rand((4,), 8, low=0.3))
    assert gradcheck(lambda a, b, c, d: kl_divergence(Normal(a, b), Normal(c, d)),
                     [ml, sl, mr, sr])


def test_normal_rsample_gradcheck():
    loc, scale = f64(rand((3, 1), 9)), f64(rand((4,), 10, low=0.5))

    def draw(m, s):
        shendu.manual_seed(123)                # the same eps on every call
        return Normal(m, s).rsample((2,))
    assert draw(loc, scale).shape == (2, 3, 4)
    assert gradcheck(draw, [loc, scale])
    # and a loss through the sample: the reparameterisation trick end to end
    assert gradcheck(lambda m, s: (draw(m, s) ** 2).sum(dim=0), [loc, scale])


def test_normal_rsample_gradient_is_the_noise():
    loc, scale = f64([1.0, -2.0]), f64([0.5, 3.0])
    shendu.manual_seed(0)
    x = Normal(loc, scale).rsample()
    x.sum().backward()
    eps = (x.detach().numpy() - loc.detach().numpy()) / scale.detach().numpy()
    np.testing.assert_allclose(loc.grad.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps)


# ------------------------------------------------------------------ values by formula
def test_categorical_values_by_formula():
    logits = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    d = Categorical(logits=shendu.tensor(logits))
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(d.probs.numpy(), p, rtol=1e-12)
    np.testing.assert_allclose(d.logits.numpy(), np.log(p), rtol=1e-12)
    np.testing.assert_allclose(d.log_prob(shendu.tensor([2, 1])).numpy(),
                               np.log([p[0, 2], p[1, 1]]), rtol=1e-12)
    np.testing.assert_allclose(d.entropy().numpy(), -(p * np.log(p)).sum(-1), rtol=1e-12)
    np.testing.assert_array_equal(d.mode.numpy(), [2, 0])
    assert d.batch_shape == (2,) and d.event_shape == () and d.param_shape == (2, 3)


def test_categorical_logits_and_probs_construction_agree():
    probs = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    a, b = Categorical(probs=shendu.tensor(probs)), Categorical(logits=shendu.tensor(np.log(probs)))
    v = shendu.tensor([1, 0])
    np.testing.assert_allclose(a.log_prob(v).numpy(), b.log_prob(v).numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.entropy().numpy(), b.entropy().numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.probs.numpy(), b.probs.numpy(), rtol=1e-12)
    # logits are shifted by any constant without changing the distribution
    c = Categorical(logits=shendu.tensor(np.log(probs) + 7.0))
    np.testing.assert_allclose(c.logits.numpy(), np.log(probs), rtol=1e-12)
    assert repr(a) == "Categorical(probs: (2, 3))" and repr(b) == "Categorical(logits: (2, 3))"


def test_categorical_probs_are_normalised():
    # probs need not sum to 1 (as in PyTorch): they are divided by their sum
    d = Categorical(probs=shendu.tensor([[1.0, 3.0], [2.0, 2.0]]))
    np.testing.assert_allclose(d.probs.numpy(), [[0.25, 0.75], [0.5, 0.5]])
    np.testing.assert_allclose(d.log_prob(shendu.tensor([1, 0])).numpy(),
                               np.log([0.75, 0.5]), rtol=1e-6)


def test_categorical_zero_probability_classes():
    d = Categorical(logits=shendu.tensor([-np.inf, 0.0, -np.inf]))
    assert np.isfinite(d.entropy().item()) and abs(d.entropy().item()) < 1e-6
    assert d.log_prob(shendu.tensor(1)).item() == pytest.approx(0.0, abs=1e-6)
    shendu.manual_seed(0)
    assert set(np.unique(d.sample((500,)).numpy())) == {1}
    d = Categorical(probs=shendu.tensor([0.0, 0.5, 0.5]))
    assert d.entropy().item() == pytest.approx(math.log(2), rel=1e-5)
    shendu.manual_seed(1)
    assert 0 not in set(d.sample((2000,)).numpy().tolist())


def test_categorical_large_logits_do_not_overflow():
    d = Categorical(logits=shendu.tensor([1000.0, 999.0], dtype=shendu.float64))
    np.testing.assert_allclose(d.probs.numpy(), [1 / (1 + math.e ** -1), 1 / (1 + math.e)])
    assert np.isfinite(d.entropy().item())


def test_normal_values_by_formula():
    loc, scale, x = np.array([0.0, 1.0, -2.0]), np.array([1.0, 2.0, 0.5]), np.array([0.3, 0.0, -1.0])
    d = Normal(shendu.tensor(loc), shendu.tensor(scale))
    expected = -(x - loc) ** 2 / (2 * scale ** 2) - np.log(scale) - 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose(d.log_prob(shendu.tensor(x)).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(d.entropy().numpy(), 0.5 + 0.5 * np.log(2 * np.pi) + np.log(scale),
                               rtol=1e-12)
    np.testing.assert_array_equal(d.mean.numpy(), loc)
    np.testing.assert_array_equal(d.mode.numpy(), loc)
    np.testing.assert_array_equal(d.stddev.numpy(), scale)
    np.testing.assert_allclose(d.variance.numpy(), scale ** 2)


def test_normal_broadcasts_loc_and_scale():
    d = Normal(shendu.zeros(3, 1), shendu.tensor([1.0, 2.0, 3.0, 4.0]))
    assert d.batch_shape == (3, 4) and d.loc.shape == d.scale.shape == (3, 4)
    assert d.log_prob(shendu.zeros(4)).shape == (3, 4)
    assert d.entropy().shape == (3, 4)
    np.testing.assert_allclose(d.entropy().numpy()[1], 1.4189385 + np.log([1, 2, 3, 4]),
                               rtol=1e-6)
    assert repr(d) == "Normal(loc: (3, 4), scale: (3, 4))"


def test_dtypes():
    # Python numbers take the default dtype; float64 parameters stay float64
    assert Normal(0.0, 1.0).log_prob(0.5).dtype == np.float32
    d64 = Normal(shendu.tensor([0.0], dtype=shendu.float64), 1.0)
    assert d64.log_prob(shendu.tensor([0.5], dtype=shendu.float64)).dtype == np.float64
    c = Categorical(logits=shendu.zeros(2, 3))
    assert c.log_prob(shendu.tensor([0, 2])).dtype == np.float32
    assert c.sample().dtype == np.int64 and c.mode.dtype == np.int64
    # integer-valued float class indices are accepted
    np.testing.assert_allclose(c.log_prob(shendu.tensor([0.0, 2.0])).numpy(), np.log([1 / 3] * 2),
                               rtol=1e-6)


def test_kl_divergence_values():
    p, q = np.array([0.2, 0.3, 0.5]), np.array([0.4, 0.4, 0.2])
    kl = kl_divergence(Categorical(probs=shendu.tensor(p)), Categorical(probs=shendu.tensor(q)))
    assert kl.item() == pytest.approx(float(np.sum(p * np.log(p / q))), rel=1e-6)
    same = Categorical(logits=shendu.tensor([0.1, 2.0]))
    assert kl_divergence(same, same).item() == pytest.approx(0.0, abs=1e-7)
    m1, s1, m2, s2 = 0.5, 2.0, -1.0, 0.7
    kl = kl_divergence(Normal(m1, s1), Normal(m2, s2))
    expected = math.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5
    assert kl.item() == pytest.approx(expected, rel=1e-6)
    assert kl_divergence(Normal(shendu.zeros(3, 1), 1.0), Normal(shendu.zeros(4), 2.0)).shape == (3, 4)


def test_kl_divergence_is_a_monte_carlo_mean_of_log_ratios():
    p, q = Normal(shendu.tensor(0.3, dtype=shendu.float64), 1.2), Normal(-0.4, 0.8)
    shendu.manual_seed(0)
    x = p.sample((200_000,))
    mc = (p.log_prob(x) - q.log_prob(x)).numpy().mean()
    assert mc == pytest.approx(kl_divergence(p, q).item(), rel=0.02)


# ------------------------------------------------------------------ sampling
@pytest.mark.parametrize("sample_shape, expected", [((), (3,)), (5, (5, 3)), ((2, 4), (2, 4, 3)),
                                                    ((0,), (0, 3))])
def test_sample_shapes(sample_shape, expected):
    c = Categorical(logits=shendu.zeros(3, 6))
    assert c.sample(sample_shape).shape == expected
    n = Normal(shendu.zeros(3), 1.0)
    assert n.sample(sample_shape).shape == expected
    assert n.rsample(sample_shape).shape == expected


def test_categorical_empirical_frequencies():
    probs = np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]])
    d = Categorical(probs=shendu.tensor(probs))
    shendu.manual_seed(0)
    s = d.sample((20_000,)).numpy()
    for row in range(2):
        freq = np.bincount(s[:, row], minlength=3) / len(s)
        # 4 standard errors of a frequency from 20,000 draws is at most 0.015
        np.testing.assert_allclose(freq, probs[row], atol=0.015)
    assert (s[:, 1] != 2).all()


def test_sampling_is_seeded():
    d = Categorical(logits=shendu.tensor([0.0, 1.0, 2.0]))
    shendu.manual_seed(7)
    a = d.sample((50,)).numpy()
    shendu.manual_seed(7)
    np.testing.assert_array_equal(a, d.sample((50,)).numpy())
    n = Normal(0.0, 1.0)
    shendu.manual_seed(7)
    x = n.sample((5,)).numpy()
    shendu.manual_seed(7)
    np.testing.assert_array_equal(x, n.rsample((5,)).detach().numpy())   # same draw


def test_normal_empirical_moments_and_gradients():
    loc = shendu.tensor([1.0, -3.0], requires_grad=True)
    scale = shendu.tensor([0.5, 2.0], requires_grad=True)
    d = Normal(loc, scale)
    shendu.manual_seed(0)
    s = d.sample((40_000,))
    assert not s.requires_grad
    np.testing.assert_allclose(s.numpy().mean(0), [1.0, -3.0], atol=0.04)
    np.testing.assert_allclose(s.numpy().std(0), [0.5, 2.0], rtol=0.03)
    r = d.rsample((3,))
    assert r.requires_grad


def test_enumerate_support():
    d = Categorical(logits=shendu.zeros(2, 3))
    support = d.enumerate_support()
    assert support.shape == (3, 2)
    np.testing.assert_array_equal(support.numpy(), [[0, 0], [1, 1], [2, 2]])
    # the log-probs of all classes sum (in probability) to 1 for every row
    lp = d.log_prob(support).numpy()
    np.testing.assert_allclose(np.exp(lp).sum(0), [1.0, 1.0], rtol=1e-6)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("make, exc, match", [
    (lambda: Categorical(), ValueError, "either `probs` or `logits`"),
    (lambda: Categorical(probs=[0.5, 0.5], logits=[0.0, 0.0]), ValueError, "not both"),
    (lambda: Categorical(probs=shendu.tensor([0.5, -0.1])), ValueError,
     r"Categorical: expected parameter probs \(shape \(2,\)\) to be non-negative"),
    (lambda: Categorical(probs=shendu.tensor([0.0, 0.0])), ValueError, "not all zero"),
    (lambda: Categorical(probs=shendu.tensor([np.inf, 1.0])), ValueError, "finite"),
    (lambda: Categorical(logits=shendu.tensor([np.nan, 1.0])), ValueError, "no NaN"),
    (lambda: Categorical(logits=shendu.tensor(1.0)), ValueError, "at least one-dimensional"),
    (lambda: Categorical(probs=shendu.tensor(1.0)), ValueError, "at least one-dimensional"),
    (lambda: Categorical(logits=shendu.tensor([1, 2])), TypeError,
     "logits must be a floating-point tensor, got dtype int64"),
    (lambda: Categorical(logits="abc"), TypeError, "logits must be a tensor, array or number"),
    (lambda: Normal(0.0, -1.0), ValueError,
     r"Normal: expected parameter scale \(shape \(\)\) to be positive \(> 0\), got -1.0"),
    (lambda: Normal(0.0, shendu.tensor([1.0, 0.0])), ValueError, "to be positive"),
    (lambda: Normal(np.nan, 1.0), ValueError, "loc .* no NaN"),
    (lambda: Normal(shendu.zeros(3), shendu.ones(4)), ValueError,
     r"loc of shape \(3,\) and scale of shape \(4,\) do not broadcast"),
    (lambda: Normal(shendu.tensor([0, 1]), 1.0), TypeError, "loc must be a floating-point"),
    (lambda: Normal(0.0, None), TypeError, "scale must be a tensor, array or number, got NoneType"),
])
def test_construction_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_validate_args_false_skips_the_checks():
    Normal(0.0, -1.0, validate_args=False)
    Categorical(probs=shendu.tensor([0.5, -0.1]), validate_args=False)
    d = Categorical(logits=shendu.zeros(3), validate_args=False)
    d.log_prob(shendu.tensor([0.5]))   # truncated to class 0 instead of an error


@pytest.mark.parametrize("value, match", [
    (shendu.tensor([0.5, 1.0, 2.0]), r"class indices \(integers\), got dtype float32"),
    (shendu.tensor([0, 3, 1]), r"support 0..2"),
    (shendu.tensor([-1, 0, 1]), r"support 0..2"),
    (shendu.tensor([0, 1]), r"shape \(2,\) does not broadcast with batch_shape \(3,\)"),
])
def test_categorical_log_prob_errors(value, match):
    d = Categorical(logits=shendu.zeros(3, 3))
    with pytest.raises(ValueError, match=match) as e:
        d.log_prob(value)
    assert str(e.value).startswith("Categorical.log_prob:")


def test_normal_log_prob_errors():
    d = Normal(shendu.zeros(3), 1.0)
    with pytest.raises(ValueError, match=r"value of shape \(2,\) does not broadcast with "
                                         r"batch_shape \(3,\)"):
        d.log_prob(shendu.zeros(2))
    with pytest.raises(ValueError, match="no NaN"):
        d.log_prob(shendu.tensor([0.0, np.nan, 1.0]))
    with pytest.raises(TypeError, match="Normal.log_prob: value must be a floating-point tensor"):
        d.log_prob(shendu.tensor([0, 1, 2]))


def test_sampling_and_family_errors():
    c, n = Categorical(logits=shendu.zeros(2)), Normal(0.0, 1.0)
    with pytest.raises(ValueError, match="sample_shape must be non-negative"):
        n.sample((-1,))
    with pytest.raises(TypeError, match="Categorical.sample: sample_shape must be a tuple of ints"):
        c.sample(2.5)
    with pytest.raises(NotImplementedError, match="Categorical has no reparameterized sampler"):
        c.rsample()
    assert Normal.has_rsample and not Categorical.has_rsample
    with pytest.raises(NotImplementedError, match="Categorical has no mean"):
        c.mean
    with pytest.raises(NotImplementedError, match="no formula for Categorical || Normal"):
        kl_divergence(c, n)
    with pytest.raises(ValueError, match="have 2 and 3 classes"):
        kl_divergence(c, Categorical(logits=shendu.zeros(3)))
    assert isinstance(c, Distribution) and isinstance(n, Distribution)


# ------------------------------------------------------------------------------ Bernoulli
def test_bernoulli_gradcheck():
    def fn(l):
        d = Bernoulli(logits=l)
        return d.log_prob(shendu.tensor(np.array([1.0, 0.0, 1.0]))) + d.entropy()
    assert gradcheck(fn, (f64([0.3, -2.0, 4.0]),))
    assert gradcheck(lambda p: Bernoulli(probs=p).entropy(), (f64([0.2, 0.5, 0.9]),))


def test_bernoulli_values_by_formula():
    p = np.array([0.1, 0.5, 0.8])
    d = Bernoulli(probs=shendu.tensor(p))
    np.testing.assert_allclose(d.log_prob(shendu.tensor([1.0, 0.0, 0.0])).numpy(),
                               np.log([0.1, 0.5, 0.2]), rtol=1e-6)
    np.testing.assert_allclose(d.entropy().numpy(),
                               -(p * np.log(p) + (1 - p) * np.log(1 - p)), rtol=1e-6)
    np.testing.assert_allclose(Bernoulli(logits=shendu.tensor([0.0])).probs.numpy(), [0.5])
    assert d.mode.tolist() == [0.0, 0.0, 1.0]
    assert d.enumerate_support().shape == (2, 3)
    big = Bernoulli(logits=shendu.tensor([100.0, -100.0]))  # stable far out
    assert np.all(np.isfinite(big.log_prob(shendu.tensor([0.0, 1.0])).numpy()))


def test_bernoulli_sampling_frequencies_and_seed():
    d = Bernoulli(probs=shendu.tensor([0.1, 0.7]))
    shendu.manual_seed(0)
    s = d.sample((4000,))
    assert s.shape == (4000, 2) and s.dtype == np.float32
    np.testing.assert_allclose(s.numpy().mean(0), [0.1, 0.7], atol=0.03)
    shendu.manual_seed(0)
    assert (d.sample((4000,)).numpy() == s.numpy()).all()
    with pytest.raises(NotImplementedError, match="rsample"):
        d.rsample()


def test_bernoulli_bad_input():
    with pytest.raises(ValueError, match="not both"):
        Bernoulli(probs=shendu.tensor(0.5), logits=shendu.tensor(0.0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Bernoulli(probs=shendu.tensor([-0.1]))
    with pytest.raises(ValueError, match="broadcast"):
        Bernoulli(probs=shendu.tensor([0.5, 0.5])).log_prob(shendu.tensor([1.0, 0.0, 1.0]))
