"""shendu.distributions against torch.distributions: log_prob, entropy, probs/logits,
kl_divergence and rsample, their values and their gradients with respect to the
parameters (float64), for several batch shapes and broadcasting (Normal loc (3, 1) with
scale (4,)), construction from logits and from (unnormalised) probs, sample shapes, and
the same bad input refused by both."""
import numpy as np
import pytest

import shendu
from shendu.distributions import Bernoulli, Categorical, Normal, kl_divergence

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")
td = torch.distributions


def pair(a):
    """The same float64 array as a shendu and a torch leaf tensor needing gradients."""
    a = np.asarray(a, dtype=np.float64)
    return shendu.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def assert_close(s, t, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np.asarray(s.detach().numpy()), t.detach().numpy(),
                               rtol=rtol, atol=atol)


def check_grads(out_s, out_t, leaves, seed=0):
    """Backpropagate the same random weighting of the outputs through both and compare
    the parameters' gradients."""
    w = np.random.default_rng(seed).standard_normal(tuple(out_t.shape))
    (out_s * shendu.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    for s, t in leaves:
        assert s.grad is not None and t.grad is not None
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


CAT_SHAPES = [(5,), (3, 4), (2, 3, 6)]


@pytest.mark.parametrize("shape", CAT_SHAPES)
@pytest.mark.parametrize("param", ["logits", "probs"])
def test_categorical_log_prob_matches_torch(shape, param):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape)
    if param == "probs":
        a = 0.1 + np.abs(a)          # positive, not summing to 1: both normalise
    ps, pt = pair(a)
    ds, dt = Categorical(**{param: ps}), td.Categorical(**{param: pt})
    assert ds.batch_shape == tuple(dt.batch_shape)
    assert_close(ds.probs, dt.probs)
    assert_close(ds.logits, dt.logits)
    v = rng.integers(0, shape[-1], shape[:-1])
    ls, lt = ds.log_prob(shendu.tensor(v)), dt.log_prob(torch.tensor(v))
    assert ls.shape == tuple(lt.shape)
    assert_close(ls, lt)
    check_grads(ls, lt, [(ps, pt)])


@pytest.mark.parametrize("shape", CAT_SHAPES)
@pytest.mark.parametrize("param", ["logits", "probs"])
def test_categorical_entropy_matches_torch(shape, param):
    a = np.random.default_rng(2).standard_normal(shape)
    if param == "probs":
        a = 0.1 + np.abs(a)
    ps, pt = pair(a)
    hs, ht = Categorical(**{param: ps}).entropy(), td.Categorical(**{param: pt}).entropy()
    assert_close(hs, ht)
    check_grads(hs, ht, [(ps, pt)])


def test_categorical_log_prob_broadcasting_matches_torch():
    ps, pt = pair(np.random.default_rng(3).standard_normal((3, 4)))
    v = np.array([[0], [2]])                        # (2, 1) x batch (3,) -> (2, 3)
    ls = Categorical(logits=ps).log_prob(shendu.tensor(v))
    lt = td.Categorical(logits=pt).log_prob(torch.tensor(v))
    assert ls.shape == tuple(lt.shape) == (2, 3)
    assert_close(ls, lt)
    check_grads(ls, lt, [(ps, pt)])


def test_categorical_zero_probabilities_match_torch():
    p = np.array([[0.0, 0.3, 0.7], [0.0, 0.0, 1.0]])
    ds, dt = Categorical(probs=shendu.tensor(p)), td.Categorical(probs=torch.tensor(p))
    assert_close(ds.entropy(), dt.entropy(), atol=1e-14)
    assert_close(ds.logits, dt.logits)
    v = np.array([1, 2])
    assert_close(ds.log_prob(shendu.tensor(v)), dt.log_prob(torch.tensor(v)))
    lg = np.array([-np.inf, 0.0, 1.0])
    assert_close(Categorical(logits=shendu.tensor(lg)).entropy(),
                 td.Categorical(logits=torch.tensor(lg)).entropy())


@pytest.mark.parametrize("loc_shape, scale_shape, value_shape", [
    ((5,), (5,), (5,)),
    ((3, 1), (4,), (3, 4)),
    ((3, 1), (4,), (2, 3, 4)),
    ((2, 3), (), (3,)),
])
def test_normal_log_prob_entropy_match_torch(loc_shape, scale_shape, value_shape):
    rng = np.random.default_rng(4)
    ls_, lt_ = pair(rng.standard_normal(loc_shape))
    ss_, st_ = pair(0.3 + np.abs(rng.standard_normal(scale_shape)))
    xs, xt = pair(rng.standard_normal(value_shape))
    ds, dt = Normal(ls_, ss_), td.Normal(lt_, st_)
    assert ds.batch_shape == tuple(dt.batch_shape)
    lps, lpt = ds.log_prob(xs), dt.log_prob(xt)
    assert lps.shape == tuple(lpt.shape)
    assert_close(lps, lpt)
    check_grads(lps, lpt, [(ls_, lt_), (ss_, st_), (xs, xt)])
    hs, ht = Normal(ls_, ss_).entropy(), td.Normal(lt_, st_).entropy()
    assert_close(hs, ht)
    for t in (ls_, lt_, ss_, st_):
        t.grad = None
    check_grads(hs, ht, [(ss_, st_)], seed=1)
    assert_close(ds.variance, dt.variance)
    assert_close(ds.stddev, dt.stddev)
    assert_close(ds.mean, dt.mean)


def test_normal_rsample_gradients_match_torch():
    # the same noise in both: rsample = loc + scale * eps, so a loss through the sample has
    # the same gradient once eps is shared
    rng = np.random.default_rng(5)
    ls_, lt_ = pair(rng.standard_normal((3, 1)))
    ss_, st_ = pair(0.5 + np.abs(rng.standard_normal(4)))
    shendu.manual_seed(0)
    xs = Normal(ls_, ss_).rsample((2,))
    eps = (xs.detach().numpy() - ls_.detach().numpy()) / ss_.detach().numpy()
    xt = lt_ + st_ * torch.tensor(eps)
    assert xs.shape == tuple(td.Normal(lt_, st_).rsample((2,)).shape) == (2, 3, 4)
    check_grads((xs ** 2).sin(), (xt ** 2).sin(), [(ls_, lt_), (ss_, st_)])


@pytest.mark.parametrize("param", ["logits", "probs"])
def test_kl_categorical_matches_torch(param):
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((2, 3, 5))
    if param == "probs":
        a, b = 0.1 + np.abs(a), 0.1 + np.abs(b)
    (ps, pt), (qs, qt) = pair(a), pair(b)
    ks = kl_divergence(Categorical(**{param: ps}), Categorical(**{param: qs}))
    kt = td.kl_divergence(td.Categorical(**{param: pt}), td.Categorical(**{param: qt}))
    assert_close(ks, kt)
    check_grads(ks, kt, [(ps, pt), (qs, qt)])


def test_kl_normal_broadcast_matches_torch():
    rng = np.random.default_rng(7)
    (m1s, m1t), (s1s, s1t) = pair(rng.standard_normal((3, 1))), pair(0.3 + rng.random((3, 1)))
    (m2s, m2t), (s2s, s2t) = pair(rng.standard_normal(4)), pair(0.3 + rng.random(4))
    ks = kl_divergence(Normal(m1s, s1s), Normal(m2s, s2s))
    kt = td.kl_divergence(td.Normal(m1t, s1t), td.Normal(m2t, s2t))
    assert ks.shape == tuple(kt.shape) == (3, 4)
    assert_close(ks, kt)
    check_grads(ks, kt, [(m1s, m1t), (s1s, s1t), (m2s, m2t), (s2s, s2t)])


@pytest.mark.parametrize("sample_shape", [(), (7,), (2, 3)])
def test_sample_shapes_match_torch(sample_shape):
    ds, dt = Categorical(logits=shendu.zeros(4, 3)), td.Categorical(logits=torch.zeros(4, 3))
    s, t = ds.sample(sample_shape), dt.sample(sample_shape)
    assert s.shape == tuple(t.shape) and s.dtype == np.int64 and t.dtype == torch.int64
    ns, nt = Normal(shendu.zeros(3, 1), shendu.ones(2)), td.Normal(torch.zeros(3, 1), torch.ones(2))
    assert ns.sample(sample_shape).shape == tuple(nt.sample(sample_shape).shape)
    assert ns.rsample(sample_shape).shape == tuple(nt.rsample(sample_shape).shape)
    assert ds.enumerate_support().shape == tuple(dt.enumerate_support().shape)
    np.testing.assert_array_equal(ds.enumerate_support().numpy(), dt.enumerate_support().numpy())


def test_empirical_frequencies_agree_with_torch():
    p = np.array([0.05, 0.15, 0.3, 0.5])
    shendu.manual_seed(0)
    torch.manual_seed(0)
    n = 40_000
    fs = np.bincount(Categorical(probs=shendu.tensor(p)).sample((n,)).numpy(), minlength=4) / n
    ft = np.bincount(td.Categorical(probs=torch.tensor(p)).sample((n,)).numpy(), minlength=4) / n
    # each within 4 standard errors (<= 0.01) of p, hence of each other
    np.testing.assert_allclose(fs, p, atol=0.01)
    np.testing.assert_allclose(fs, ft, atol=0.02)


@pytest.mark.parametrize("build", [
    lambda lib: lib.Normal(lib_t(lib, [0.0]), lib_t(lib, [-1.0])),
    lambda lib: lib.Categorical(probs=lib_t(lib, [0.5, -0.5])),
    lambda lib: lib.Categorical(logits=lib_t(lib, [0.0, float("nan")])),
    lambda lib: lib.Categorical(logits=lib_t(lib, 1.0)),
])
def test_bad_parameters_are_refused_by_both(build):
    with pytest.raises(ValueError):
        build(td)
    with pytest.raises(ValueError):
        build(shendu.distributions)


@pytest.mark.parametrize("value", [[0, 3], [0.5, 1.0], [0, 1, 2]])
def test_bad_categorical_values_are_refused_by_both(value):
    dt = td.Categorical(logits=torch.zeros(2, 3))
    ds = Categorical(logits=shendu.zeros(2, 3))
    with pytest.raises((ValueError, RuntimeError)):
        dt.log_prob(torch.tensor(value))
    with pytest.raises(ValueError):
        ds.log_prob(shendu.tensor(value))


def lib_t(lib, a):
    return torch.tensor(a) if lib is td else shendu.tensor(a)


# ------------------------------------------------------------------------------ Bernoulli
@pytest.mark.parametrize("shape", [(), (5,), (3, 4)])
@pytest.mark.parametrize("param", ["logits", "probs"])
def test_bernoulli_matches_torch(shape, param):
    rng = np.random.default_rng(7)
    a = rng.standard_normal(shape) * 2
    if param == "probs":
        a = 1 / (1 + np.exp(-a))
    ps, pt = pair(a)
    ds, dt = Bernoulli(**{param: ps}), td.Bernoulli(**{param: pt})
    assert ds.batch_shape == tuple(dt.batch_shape)
    assert_close(ds.probs, dt.probs)
    assert_close(ds.logits, dt.logits, rtol=1e-9)
    assert_close(ds.mean, dt.mean)
    assert_close(ds.variance, dt.variance)
    v = rng.integers(0, 2, shape).astype(np.float64)
    ls, lt = ds.log_prob(shendu.tensor(v)), dt.log_prob(torch.tensor(v))
    assert_close(ls, lt)
    check_grads(ls, lt, [(ps, pt)])


@pytest.mark.parametrize("param", ["logits", "probs"])
def test_bernoulli_entropy_and_kl_match_torch(param):
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((2, 6))
    if param == "probs":
        a, b = 1 / (1 + np.exp(-a)), 1 / (1 + np.exp(-b))
    ps, pt = pair(a)
    hs, ht = Bernoulli(**{param: ps}).entropy(), td.Bernoulli(**{param: pt}).entropy()
    assert_close(hs, ht)
    check_grads(hs, ht, [(ps, pt)])
    ps, pt = pair(a)
    qs, qt = pair(b)
    ks = kl_divergence(Bernoulli(**{param: ps}), Bernoulli(**{param: qs}))
    kt = td.kl_divergence(td.Bernoulli(**{param: pt}), td.Bernoulli(**{param: qt}))
    assert_close(ks, kt, rtol=1e-9)
    check_grads(ks, kt, [(ps, pt), (qs, qt)])


def test_bernoulli_log_prob_broadcast_and_bad_input_like_torch():
    ps, pt = pair([0.2, 0.7, 0.5])
    v = np.array([[0.0], [1.0]])
    assert_close(Bernoulli(probs=ps).log_prob(shendu.tensor(v)),
                 td.Bernoulli(probs=pt).log_prob(torch.tensor(v)))
    with pytest.raises(ValueError):
        td.Bernoulli(probs=torch.tensor([1.5]))
    with pytest.raises(ValueError, match="probs"):
        Bernoulli(probs=shendu.tensor([1.5]))
    with pytest.raises(ValueError):
        td.Bernoulli(probs=torch.tensor([0.5])).log_prob(torch.tensor([0.5]))
    with pytest.raises(ValueError, match="0 or 1"):
        Bernoulli(probs=shendu.tensor([0.5])).log_prob(shendu.tensor([0.5]))
    assert not Bernoulli(probs=shendu.tensor(0.5)).has_rsample
    assert not td.Bernoulli(probs=torch.tensor(0.5)).has_rsample
