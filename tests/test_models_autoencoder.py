"""shendu.models.autoencoder: the Autoencoder container and its builders, the corruption
modules of denoising autoencoders, the masked MSE of the recommender (float64 gradcheck and
PyTorch conformance), and nearest-neighbour retrieval (against a brute-force reference and
scikit-learn)."""
import numpy as np
import pytest

import shendu
import shendu.nn.functional as F
from shendu import nn, optim
from shendu.autograd.gradcheck import gradcheck
from shendu.models.autoencoder import (Autoencoder, GaussianNoise, MaskingNoise,
                                       conv_autoencoder, dense_autoencoder, masked_mse_loss,
                                       nearest_neighbours)


def _torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                               "tests need `pip install torch`")


# ------------------------------------------------------------------ Autoencoder / builders
def test_dense_autoencoder_layers_and_shapes():
    shendu.manual_seed(0)
    ae = dense_autoencoder(784, [128, 64], code_dim=32)
    linears = [m for m in ae.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (784, 128), (128, 64), (64, 32), (32, 64), (64, 128), (128, 784)]
    assert isinstance(ae.encoder[-1], nn.ReLU) and isinstance(ae.decoder[-1], nn.Sigmoid)
    x = shendu.rand(7, 784)
    z = ae.encode(x)
    assert z.shape == (7, 32) and (z.detach().numpy() >= 0).all()
    with shendu.no_grad():
        out = ae(x)
    assert out.shape == (7, 784)
    assert ((out.numpy() > 0) & (out.numpy() < 1)).all()
    np.testing.assert_allclose(out.numpy(), ae.decode(z).detach().numpy(), rtol=1e-6)


def test_dense_autoencoder_linear_code_and_errors():
    ae = dense_autoencoder(10, [], code_dim=3, code_activation=None, output_activation=None)
    assert [type(m).__name__ for m in ae.encoder] == ["Linear"]
    assert [type(m).__name__ for m in ae.decoder] == ["Linear"]
    assert sum(p.numel() for p in ae.parameters()) == 10 * 3 + 3 + 3 * 10 + 10
    with pytest.raises(ValueError, match="code_dim must be a positive int"):
        dense_autoencoder(10, [], code_dim=0)
    with pytest.raises(ValueError, match=r"hidden\[1\] must be a positive int"):
        dense_autoencoder(10, [5, -1], code_dim=2)
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        dense_autoencoder(10, [5], code_dim=2, activation="swishy")


@pytest.mark.parametrize("upsample", ["transpose", "nearest"])
def test_conv_autoencoder_shapes(upsample):
    shendu.manual_seed(0)
    x = shendu.rand(3, 1, 28, 28)
    ae = conv_autoencoder(1, (4, 8), code_dim=6, upsample=upsample)
    assert ae.encode(x).shape == (3, 6)
    assert ae(x).shape == (3, 1, 28, 28)
    ae_map = conv_autoencoder(3, (4, 8), image_size=16, upsample=upsample)
    y = shendu.rand(2, 3, 16, 16)
    assert ae_map.encode(y).shape == (2, 8, 4, 4)
    assert ae_map(y).shape == (2, 3, 16, 16)
    kinds = {type(m).__name__ for m in ae_map.decoder.modules()}
    assert ("ConvTranspose2d" in kinds) == (upsample == "transpose")
    assert ("Upsample" in kinds) == (upsample == "nearest")


def test_conv_autoencoder_errors():
    with pytest.raises(ValueError, match=r"must be divisible by 2\^3 = 8"):
        conv_autoencoder(1, (4, 8, 16), image_size=(28, 28))
    with pytest.raises(ValueError, match="upsample must be 'transpose' or 'nearest'"):
        conv_autoencoder(1, (4,), upsample="bilinear")
    with pytest.raises(ValueError, match="at least one layer"):
        conv_autoencoder(1, ())


def test_autoencoder_rejects_non_modules():
    with pytest.raises(TypeError, match="encoder must be an nn.Module"):
        Autoencoder(lambda x: x, nn.Linear(2, 2))
    with pytest.raises(TypeError, match="corruption must be an nn.Module"):
        Autoencoder(nn.Linear(2, 2), nn.Linear(2, 2), corruption=0.5)


def test_corruption_applies_in_training_only():
    ae = Autoencoder(nn.Identity(), nn.Identity(), corruption=MaskingNoise(0.5))
    x = shendu.ones(4000)
    shendu.manual_seed(0)
    y = ae(x).numpy()
    assert 0.45 < (y == 0).mean() < 0.55 and set(np.unique(y)) == {0.0, 1.0}
    np.testing.assert_array_equal(ae.encode(x).numpy(), 1.0)  # encode never corrupts
    ae.eval()
    np.testing.assert_array_equal(ae(x).numpy(), 1.0)
    assert not ae.corruption.training


def test_gaussian_noise_statistics_clip_and_gradient():
    shendu.manual_seed(1)
    x = shendu.full((20000,), 0.5, requires_grad=True)
    y = GaussianNoise(0.1, clip=None)(x)
    assert abs(float(y.detach().numpy().mean()) - 0.5) < 0.005
    assert abs(float(y.detach().numpy().std()) - 0.1) < 0.005
    y.sum().backward()  # additive noise: d y / d x = 1
    np.testing.assert_array_equal(x.grad.numpy(), 1.0)
    clipped = GaussianNoise(2.0)(shendu.full((1000,), 0.5)).numpy()
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    with pytest.raises(ValueError, match="std must be a number >= 0"):
        GaussianNoise(-1)
    with pytest.raises(ValueError, match="probability in"):
        MaskingNoise(1.5)


def test_corruption_is_reproducible_with_manual_seed():
    shendu.manual_seed(3)
    a = GaussianNoise(0.3)(shendu.full((50,), 0.5)).numpy()
    shendu.manual_seed(3)
    b = GaussianNoise(0.3)(shendu.full((50,), 0.5)).numpy()
    np.testing.assert_array_equal(a, b)


def test_denoising_autoencoder_learns_to_remove_noise():
    """Two clean patterns; the denoiser sees masked copies and must output the clean one."""
    rng = np.random.default_rng(0)
    patterns = np.zeros((2, 16), np.float32)
    patterns[0, :8] = 1
    patterns[1, 8:] = 1
    data = patterns[rng.integers(0, 2, 256)]
    shendu.manual_seed(0)
    ae = dense_autoencoder(16, [], code_dim=4, corruption=MaskingNoise(0.3))
    opt = optim.Adam(ae.parameters(), lr=0.05)
    x = shendu.tensor(data)
    for _ in range(150):
        opt.zero_grad()
        loss = F.binary_cross_entropy(ae(x), x)
        loss.backward()
        opt.step()
    masked = patterns.copy()
    masked[0, [1, 4, 6]] = 0
    masked[1, [9, 12]] = 0
    ae.eval()
    with shendu.no_grad():
        out = ae(shendu.tensor(masked)).numpy()
    np.testing.assert_array_equal(out > 0.5, patterns > 0.5)


# ------------------------------------------------------------------ masked_mse_loss
def _ratings(seed=0, shape=(5, 7), missing=0.5):
    rng = np.random.default_rng(seed)
    pred = rng.normal(3, 1, shape)
    target = rng.integers(1, 6, shape).astype(np.float64)
    mask = rng.random(shape) > missing
    mask[0, 0] = True
    return pred, target, mask


def test_masked_mse_loss_value_by_hand():
    pred, target, mask = _ratings()
    expected = np.mean((pred - target)[mask] ** 2)
    got = masked_mse_loss(shendu.tensor(pred), shendu.tensor(target), shendu.tensor(mask))
    np.testing.assert_allclose(got.item(), expected, rtol=1e-12)
    total = masked_mse_loss(shendu.tensor(pred), target, mask, reduction="sum")
    np.testing.assert_allclose(total.item(), np.sum((pred - target)[mask] ** 2), rtol=1e-12)
    # NaN marks missing when no mask is given; what the target holds there never matters
    with_nan = np.where(mask, target, np.nan)
    np.testing.assert_allclose(masked_mse_loss(shendu.tensor(pred), with_nan).item(),
                               expected, rtol=1e-12)
    garbage = np.where(mask, target, 1e6)
    np.testing.assert_allclose(masked_mse_loss(shendu.tensor(pred), garbage, mask).item(),
                               expected, rtol=1e-12)
    # with every entry observed it is the plain MSE
    full = masked_mse_loss(shendu.tensor(pred), target, np.ones_like(mask))
    np.testing.assert_allclose(full.item(), F.mse_loss(shendu.tensor(pred),
                                                       shendu.tensor(target)).item())


def test_masked_mse_loss_gradient_is_zero_where_missing():
    pred, target, mask = _ratings(1)
    p = shendu.tensor(pred, requires_grad=True)
    masked_mse_loss(p, np.where(mask, target, np.nan)).backward()
    g = p.grad.numpy()
    assert np.isfinite(g).all()
    np.testing.assert_array_equal(g[~mask], 0.0)
    np.testing.assert_allclose(g[mask], 2 * (pred - target)[mask] / mask.sum(), rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_masked_mse_loss_gradcheck(reduction):
    pred, target, mask = _ratings(2, shape=(3, 4))
    p = shendu.tensor(pred, dtype=shendu.float64, requires_grad=True)
    assert gradcheck(lambda a: masked_mse_loss(a, target, mask, reduction=reduction), [p])


def test_masked_mse_loss_errors():
    p = shendu.zeros(2, 3)
    with pytest.raises(ValueError, match=r"target shape \(3, 2\) must equal input shape"):
        masked_mse_loss(p, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="mask shape"):
        masked_mse_loss(p, np.zeros((2, 3)), mask=np.ones((2, 2)))
    with pytest.raises(ValueError, match="no observed entries"):
        masked_mse_loss(p, np.full((2, 3), np.nan))
    assert masked_mse_loss(p, np.full((2, 3), np.nan), reduction="sum").item() == 0.0
    with pytest.raises(ValueError, match="target is NaN at 1 entries that the mask marks"):
        masked_mse_loss(p, np.array([[np.nan, 1, 2], [3, 4, np.nan]]),
                        mask=[[1, 1, 1], [1, 1, 0]])
    with pytest.raises(ValueError, match="only 0/1 or booleans"):
        masked_mse_loss(p, np.zeros((2, 3)), mask=np.full((2, 3), 0.5))
    with pytest.raises(TypeError, match="input must be a Tensor"):
        masked_mse_loss(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="reduction must be"):
        masked_mse_loss(p, np.zeros((2, 3)), reduction="none")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_masked_mse_loss_matches_torch(reduction):
    torch = _torch()
    pred, target, mask = _ratings(3, shape=(6, 9))
    pred32 = pred.astype(np.float32)
    ours = shendu.tensor(pred32, requires_grad=True)
    loss = masked_mse_loss(ours, np.where(mask, target, np.nan).astype(np.float32),
                           reduction=reduction)
    loss.backward()
    theirs = torch.tensor(pred32, requires_grad=True)
    m = torch.tensor(mask)
    ref = torch.nn.functional.mse_loss(theirs[m], torch.tensor(target, dtype=torch.float32)[m],
                                       reduction=reduction)
    ref.backward()
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-6)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_masked_autoencoder_fills_in_missing_ratings():
    """A rank-1 ratings matrix with holes: trained on the observed entries only (with masking
    noise on the inputs, so that it learns to predict entries it does not see), the
    autoencoder's outputs in the holes beat the per-movie mean by far."""
    rng = np.random.default_rng(0)
    u, v = rng.normal(0, 1, 60), rng.normal(0, 1, 12)
    full = 3 + np.outer(u, v)
    mask = rng.random(full.shape) < 0.6
    train = np.where(mask, full, 0).astype(np.float32)
    shendu.manual_seed(0)
    ae = dense_autoencoder(12, [], code_dim=3, activation="tanh", output_activation=None,
                           corruption=MaskingNoise(0.3))
    opt = optim.Adam(ae.parameters(), lr=0.03)
    for _ in range(400):
        opt.zero_grad()
        loss = masked_mse_loss(ae(shendu.tensor(train)), train, mask)
        loss.backward()
        opt.step()
    ae.eval()
    with shendu.no_grad():
        pred = ae(shendu.tensor(train)).numpy()
    movie_mean = np.nanmean(np.where(mask, full, np.nan), axis=0)
    err_ae = np.sqrt(np.mean((pred - full)[~mask] ** 2))
    err_mean = np.sqrt(np.mean((movie_mean[None, :] - full)[~mask] ** 2))
    assert err_ae < 0.8 * err_mean, (err_ae, err_mean)


# ------------------------------------------------------------------ nearest_neighbours
def _brute(codes, queries, k, metric):
    if metric == "cosine":
        a = codes / np.linalg.norm(codes, axis=1, keepdims=True)
        b = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        d = 1 - b @ a.T
    else:
        d = np.linalg.norm(queries[:, None, :] - codes[None, :, :], axis=2)
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(d, idx, axis=1)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_nearest_neighbours_matches_brute_force(metric):
    rng = np.random.default_rng(0)
    codes, queries = rng.normal(size=(200, 6)), rng.normal(size=(37, 6))
    idx, dist = nearest_neighbours(codes, queries, k=5, metric=metric, batch_size=8)
    ref_idx, ref_dist = _brute(codes, queries, 5, metric)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-9, atol=1e-12)
    assert idx.dtype == np.int64 and dist.shape == (37, 5)
    assert (np.diff(dist, axis=1) >= 0).all()


def test_nearest_neighbours_matches_sklearn():
    neighbors = pytest.importorskip("sklearn.neighbors")
    rng = np.random.default_rng(1)
    codes = rng.normal(size=(300, 8)).astype(np.float32)
    for metric in ("cosine", "euclidean"):
        ref = neighbors.NearestNeighbors(n_neighbors=4, metric=metric, algorithm="brute")
        ref_dist, ref_idx = ref.fit(codes).kneighbors(codes[:20])
        idx, dist = nearest_neighbours(shendu.tensor(codes), codes[:20], k=4, metric=metric)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_allclose(dist, ref_dist, rtol=1e-5, atol=1e-6)


def test_nearest_neighbours_exclude_and_zero_vectors():
    codes = np.array([[1.0, 0.0], [0.0, 0.0], [0.7, 0.7], [1.0, 0.1]])
    idx, _ = nearest_neighbours(codes, codes, k=1, exclude=np.arange(4))
    assert idx[:, 0].tolist() != list(range(4))
    assert idx[0, 0] == 3 and idx[3, 0] == 0
    idx, dist = nearest_neighbours(codes, codes[1:2], k=4)  # a zero query: no NaN
    assert np.isfinite(dist).all()
    np.testing.assert_allclose(dist, 1.0)
    idx, _ = nearest_neighbours(codes, codes[:2], k=3, exclude=[-1, 1])
    assert idx[0, 0] == 0 and 1 not in idx[1]


def test_nearest_neighbours_errors():
    codes = np.zeros((5, 3))
    with pytest.raises(ValueError, match="queries have 2 features but codes have 3"):
        nearest_neighbours(codes, np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"k must be an int in 1\.\.5"):
        nearest_neighbours(codes, codes, k=6)
    with pytest.raises(ValueError, match=r"k must be an int in 1\.\.4"):
        nearest_neighbours(codes, codes, k=5, exclude=range(5))
    with pytest.raises(ValueError, match="must be 2-D"):
        nearest_neighbours(np.zeros((5, 3, 2)), codes)
    with pytest.raises(ValueError, match="metric must be 'cosine' or 'euclidean'"):
        nearest_neighbours(codes, codes, metric="manhattan")
    with pytest.raises(ValueError, match="one index per query"):
        nearest_neighbours(codes, codes[:2], k=1, exclude=[0])
