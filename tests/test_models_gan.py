"""shendu.models.gan: the DCGAN builders (shapes, layers, initialization), one GAN step
(each player improves at its own game), sampling and grids, and the Inception score
(hand-computed values, its bounds and properties, class coverage, the classifier
wrapper). The builders' forward passes are compared with PyTorch on copied weights."""
import math

import numpy as np
import pytest

import shendu
from shendu import nn, optim
from shendu.models.gan import (GAN, class_coverage, classifier_inception_score,
                               dcgan_discriminator, dcgan_generator, dcgan_init_,
                               inception_score, save_image_grid, tile_images)


@pytest.fixture(autouse=True)
def _seed():
    shendu.manual_seed(0)


# ---------------------------------------------------------------------- builders
@pytest.mark.parametrize("channels,image_size,out_channels", [
    ((16, 8), 28, 1), ((16, 8, 4), 32, 3), ((8,), 14, 1), ((8, 4, 4, 2), 64, 3)])
def test_generator_shapes_and_range(channels, image_size, out_channels):
    G = dcgan_generator(10, channels, out_channels, image_size)
    images = G(shendu.randn(3, 10))
    assert images.shape == (3, out_channels, image_size, image_size)
    assert np.abs(images._data).max() <= 1.0 and images._data.std() > 0
    D = dcgan_discriminator(out_channels, tuple(reversed(channels)), image_size)
    assert D(images).shape == (3, 1)


def test_generator_layers_follow_dcgan():
    G = dcgan_generator(100, (64, 32))
    kinds = [type(m).__name__ for m in G]
    assert kinds == ["Unflatten", "ConvTranspose2d", "BatchNorm2d", "ReLU",
                     "ConvTranspose2d", "BatchNorm2d", "ReLU", "ConvTranspose2d", "Tanh"]
    first, second, last = G[1], G[4], G[7]
    assert first.weight.shape == (100, 64, 7, 7) and first.bias is None  # 1x1 -> 7x7
    assert second.stride == (2, 2) and second.bias is None  # BN's shift replaces the bias
    assert last.weight.shape == (32, 1, 4, 4) and last.bias is not None
    assert sum(p.numel() for p in G.parameters()) == 347073  # 313,600 in the 100 -> 64x7x7 layer


def test_discriminator_layers_follow_dcgan():
    D = dcgan_discriminator(1, (32, 64))
    kinds = [type(m).__name__ for m in D]
    # no batch norm on the input layer; LeakyReLU(0.2) everywhere; a 7x7 scoring conv
    assert kinds == ["Conv2d", "LeakyReLU", "Conv2d", "BatchNorm2d", "LeakyReLU",
                     "Conv2d", "Flatten"]
    assert D[1].negative_slope == 0.2 and D[4].negative_slope == 0.2
    assert D[5].weight.shape == (1, 64, 7, 7)
    assert sum(p.numel() for p in D.parameters()) == 36577
    no_bn = dcgan_discriminator(1, (32, 64), batch_norm=False)
    assert "BatchNorm2d" not in [type(m).__name__ for m in no_bn] and no_bn[2].bias is not None
    probs = dcgan_discriminator(1, (8, 16), head="sigmoid")
    assert type(probs[-1]).__name__ == "Sigmoid"
    p = probs(shendu.randn(5, 1, 28, 28))._data
    assert ((p > 0) & (p < 1)).all()


def test_init_statistics():
    G = dcgan_generator(100, (128, 64))
    w = G[1].weight._data  # 100*128*49 = 627,200 values
    assert abs(w.mean()) < 1e-3 and w.std() == pytest.approx(0.02, rel=0.01)
    bn = np.concatenate([G[2].weight._data, G[5].weight._data])  # 192 scales
    assert bn.mean() == pytest.approx(1.0, abs=0.01) and bn.std() == pytest.approx(0.02, rel=0.3)
    assert np.all(G[2].bias._data == 0) and np.all(G[7].bias._data == 0)
    net = dcgan_init_(nn.Sequential(nn.Linear(400, 300), nn.BatchNorm1d(300)), std=0.05)
    assert net[0].weight._data.std() == pytest.approx(0.05, rel=0.02)
    assert np.all(net[0].bias._data == 0) and net[1].weight._data.std() == \
        pytest.approx(0.05, rel=0.3)


def test_builder_errors():
    with pytest.raises(ValueError, match="multiple of 2\\*\\*len\\(channels\\) = 4"):
        dcgan_generator(10, (16, 8), image_size=30)
    with pytest.raises(ValueError, match="non-empty sequence"):
        dcgan_generator(10, ())
    with pytest.raises(ValueError, match="non-empty sequence"):
        dcgan_discriminator(1, 64)
    with pytest.raises(ValueError, match="latent_dim"):
        dcgan_generator(0)
    with pytest.raises(ValueError, match="head must be 'logits' or 'sigmoid'"):
        dcgan_discriminator(head="softmax")
    with pytest.raises(TypeError, match="dcgan_init_ takes an nn.Module"):
        dcgan_init_(np.zeros(3))


def test_builders_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no conformance "
                                "check of the DCGAN builders")
    from torch import nn as tnn
    G = dcgan_generator(6, (8, 4))
    D = dcgan_discriminator(1, (4, 8))
    tG = tnn.Sequential(tnn.Unflatten(1, (6, 1, 1)), tnn.ConvTranspose2d(6, 8, 7, 1, 0, bias=False),
                        tnn.BatchNorm2d(8), tnn.ReLU(), tnn.ConvTranspose2d(8, 4, 4, 2, 1, bias=False),
                        tnn.BatchNorm2d(4), tnn.ReLU(), tnn.ConvTranspose2d(4, 1, 4, 2, 1), tnn.Tanh())
    tD = tnn.Sequential(tnn.Conv2d(1, 4, 4, 2, 1), tnn.LeakyReLU(0.2),
                        tnn.Conv2d(4, 8, 4, 2, 1, bias=False), tnn.BatchNorm2d(8),
                        tnn.LeakyReLU(0.2), tnn.Conv2d(8, 1, 7, 1, 0), tnn.Flatten())
    for ours, theirs in ((G, tG), (D, tD)):
        theirs.load_state_dict({k: torch.from_numpy(np.array(v._data)) for k, v in
                                ours.state_dict().items()})
    z = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    for train in (True, False):
        G.train(train), D.train(train), tG.train(train), tD.train(train)
        with torch.no_grad():
            t_img = tG(torch.from_numpy(z))
            t_score = tD(t_img)
        img = G(shendu.tensor(z))
        np.testing.assert_allclose(img._data, t_img.numpy(), atol=1e-5)
        np.testing.assert_allclose(D(img)._data, t_score.numpy(), atol=1e-5)


# ---------------------------------------------------------------------- the GAN step
def _tiny_gan(**kwargs):
    G = dcgan_generator(8, (8, 4))
    D = dcgan_discriminator(1, (4, 8))
    return GAN(G, D, latent_dim=8, **kwargs)


def _bce_logits(scores, label):
    s = scores._data.astype(np.float64).reshape(-1)
    return float(np.mean(np.logaddexp(0, -s) if label == 1 else np.logaddexp(0, s)))


def test_one_step_improves_each_player():
    gan = _tiny_gan(lr=1e-4)
    real = shendu.tensor(np.random.default_rng(0).uniform(-1, 1, (16, 1, 28, 28))
                         .astype(np.float32))
    z = gan.noise(16)
    G, D = gan.generator, gan.discriminator
    g0 = [p._data.copy() for p in G.parameters()]
    d0 = [p._data.copy() for p in D.parameters()]
    with shendu.no_grad():  # train mode, as in the step (batch statistics)
        fake0 = G(z)
        d_loss0 = _bce_logits(D(real), 1) + _bce_logits(D(fake0), 0)
    logs = gan.train_step(real, z=z)
    assert logs["d_loss"] == pytest.approx(d_loss0, rel=1e-5)
    assert 0 < logs["d_fake"] < 1 and 0 < logs["d_real"] < 1
    assert all(not np.array_equal(a, p._data) for a, p in zip(g0, G.parameters()))
    assert all(not np.array_equal(a, p._data) for a, p in zip(d0, D.parameters()))
    assert all(p.requires_grad for p in D.parameters())  # unfrozen after G's step
    with shendu.no_grad():
        # D got better at its game on the same real and fake images ...
        d_loss1 = _bce_logits(D(real), 1) + _bce_logits(D(fake0), 0)
        # ... and, judged by the new D, G's new images fool it more than its old ones
        g_loss_old = _bce_logits(D(fake0), 1)
        g_loss_new = _bce_logits(D(G(z)), 1)
    assert logs["g_loss"] == pytest.approx(g_loss_old, rel=1e-5)
    assert d_loss1 < d_loss0
    assert g_loss_new < g_loss_old


def test_non_saturating_loss_gives_stronger_gradient_when_d_wins():
    grads = {}
    for kind in ("non_saturating", "minimax"):
        shendu.manual_seed(0)
        G = dcgan_generator(8, (8, 4))
        D = dcgan_discriminator(1, (4, 8))
        nn.init.constant_(D[5].bias, -5.0)  # D is sure every image is fake: D(G(z)) ~ 0.007
        gan = GAN(G, D, 8, g_optimizer=optim.SGD(G.parameters(), lr=0.0),
                  d_optimizer=optim.SGD(D.parameters(), lr=0.0), generator_loss=kind)
        logs = gan.train_step(shendu.zeros(8, 1, 28, 28), z=shendu.randn(8, 8))
        grads[kind] = math.sqrt(sum(float((p.grad._data ** 2).sum()) for p in G.parameters()))
        if kind == "minimax":
            assert logs["g_loss"] < 0  # mean log(1 - D(G(z)))
    # d/ds -log sigmoid(s) = sigmoid(s) - 1 against d/ds log(1 - sigmoid(s)) = -sigmoid(s):
    # (1 - p) / p ~ 147 at p = sigmoid(-5)
    assert grads["non_saturating"] / grads["minimax"] == pytest.approx(
        (1 - 1 / (1 + math.exp(5))) / (1 / (1 + math.exp(5))), rel=0.05)


def test_probability_head_and_label_smoothing():
    G = dcgan_generator(8, (8, 4))
    D = dcgan_discriminator(1, (4, 8), head="sigmoid")
    gan = GAN(G, D, 8, discriminator_outputs="probabilities", real_label=0.9)
    real = shendu.rand(8, 1, 28, 28) * 2 - 1
    z = gan.noise(8)
    with shendu.no_grad():
        p_real, p_fake = D(real)._data.astype(np.float64), D(G(z))._data.astype(np.float64)
    expected = -np.mean(0.9 * np.log(p_real) + 0.1 * np.log(1 - p_real)) \
        - np.mean(np.log(1 - p_fake))
    logs = gan.train_step(real, z=z)
    assert logs["d_loss"] == pytest.approx(expected, rel=1e-4)
    assert logs["d_real"] == pytest.approx(p_real.mean(), rel=1e-5)


def test_sample_and_grids(tmp_path):
    from test_examples import assert_png
    gan = _tiny_gan()
    gan.train_step(shendu.rand(8, 1, 28, 28) * 2 - 1)
    z = gan.noise(6)
    images = gan.sample(z=z)
    assert images.shape == (6, 1, 28, 28) and not images.requires_grad
    assert gan.generator.training  # mode restored
    # inference mode: an image does not depend on the rest of its batch
    np.testing.assert_allclose(gan.sample(z=z[:2])._data, images._data[:2], atol=1e-6)
    assert gan.sample(5).shape == (5, 1, 28, 28)
    path = gan.save_grid(tmp_path / "grid.png", n=16, ncols=4)
    assert_png(path, min_size=(100, 100))
    state = gan.state_dict()
    assert any(k.startswith("generator.") for k in state) and \
        any(k.startswith("discriminator.") for k in state)
    shendu.save(state, tmp_path / "gan.safetensors")
    other = _tiny_gan()
    other.load_state_dict(shendu.load(tmp_path / "gan.safetensors"))
    np.testing.assert_array_equal(other.sample(z=z)._data, gan.sample(z=z)._data)


def test_tile_images():
    images = np.stack([np.full((1, 2, 3), v) for v in (-1.0, 0.0, 1.0)])
    grid = tile_images(images, ncols=2, padding=1, pad_value=0.5)
    assert grid.shape == (2 * 3 + 1, 2 * 4 + 1)
    np.testing.assert_allclose(grid[1:3, 1:4], 0.0)   # -1 -> 0
    np.testing.assert_allclose(grid[1:3, 5:8], 0.5)   # 0 -> 0.5
    np.testing.assert_allclose(grid[4:6, 1:4], 1.0)   # 1 -> 1
    assert grid[0, 0] == 0.5 and grid[4, 5] == 0.5    # padding and the empty cell
    colour = tile_images(np.zeros((4, 3, 5, 5)), ncols=4, padding=0, value_range=None)
    assert colour.shape == (5, 20, 3)
    with pytest.raises(ValueError, match="C = 1 or 3"):
        tile_images(np.zeros((2, 2, 5, 5)))
    with pytest.raises(ValueError, match="high > low"):
        tile_images(np.zeros((2, 1, 5, 5)), value_range=(1, 1))


def test_save_image_grid_is_atomic_png(tmp_path):
    from test_examples import assert_png
    x = np.random.default_rng(0).uniform(-1, 1, (9, 1, 8, 8))
    path = save_image_grid(x, tmp_path / "sub" / "g.png", ncols=3)
    assert_png(path, min_size=(3 * 10 * 4, 3 * 10 * 4))
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["g.png"]


def test_gan_errors():
    G, D = dcgan_generator(8, (8, 4)), dcgan_discriminator(1, (4, 8))
    with pytest.raises(TypeError, match="discriminator must be an nn.Module"):
        GAN(G, "D", 8)
    with pytest.raises(ValueError, match="latent_dim"):
        GAN(G, D, 0)
    with pytest.raises(ValueError, match="generator_loss"):
        GAN(G, D, 8, generator_loss="wasserstein")
    with pytest.raises(ValueError, match="discriminator_outputs"):
        GAN(G, D, 8, discriminator_outputs="scores")
    with pytest.raises(ValueError, match="real_label"):
        GAN(G, D, 8, real_label=1.5)
    gan = GAN(G, D, 8)
    with pytest.raises(ValueError, match=r"z must have shape \(N, latent_dim\) = \(4, 8\)"):
        gan.train_step(shendu.zeros(4, 1, 28, 28), z=shendu.zeros(4, 7))
    with pytest.raises(ValueError, match="batch of images"):
        gan.train_step(shendu.zeros(0, 1, 28, 28))
    with pytest.raises(ValueError, match="give n > 0 or z"):
        gan.sample()


# ---------------------------------------------------------------------- Inception score
def test_inception_score_by_hand():
    p = np.array([[0.5, 0.5], [1.0, 0.0]])
    marginal = [0.75, 0.25]
    kl1 = 0.5 * math.log(0.5 / marginal[0]) + 0.5 * math.log(0.5 / marginal[1])
    kl2 = 1.0 * math.log(1.0 / marginal[0])  # 0 log 0 = 0
    score, std = inception_score(p, splits=1)
    assert score == pytest.approx(math.exp((kl1 + kl2) / 2), rel=1e-12)  # 1.2408
    assert std == 0.0
    # two splits: each split has one sample, whose KL to its own marginal is 0
    assert inception_score(p, splits=2) == pytest.approx((1.0, 0.0))


def test_inception_score_properties():
    confident = np.eye(10)[np.arange(1000) % 10]
    assert inception_score(confident)[0] == pytest.approx(10.0)
    assert inception_score(np.eye(10)[np.zeros(500, int)])[0] == pytest.approx(1.0)
    # confident but only 4 classes, equally often: 4
    assert inception_score(np.eye(10)[np.arange(400) % 4], splits=4)[0] == pytest.approx(4.0)
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(10, 0.3), size=600)
    score, std = inception_score(p, splits=6)
    assert 1.0 < score < 10.0 and std > 0
    # the class order does not matter; sharper predictions score higher
    assert inception_score(p[:, rng.permutation(10)], splits=6)[0] == pytest.approx(score)
    sharper = p ** 3 / (p ** 3).sum(axis=1, keepdims=True)
    assert inception_score(sharper, splits=6)[0] > score
    # a Tensor works as an array
    assert inception_score(shendu.tensor(confident), splits=2)[0] == pytest.approx(10.0)


def test_inception_score_errors():
    with pytest.raises(ValueError, match="softmax outputs, not logits"):
        inception_score(np.array([[2.0, -1.0], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="row 1 sums to 0.8000"):
        inception_score(np.array([[0.5, 0.5], [0.4, 0.4]]))
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        inception_score(np.ones(10) / 10)
    with pytest.raises(ValueError, match=r"splits must be an int in \[1, N=2\]"):
        inception_score(np.eye(2), splits=3)


def test_class_coverage():
    p = np.eye(5)[[0, 0, 0, 1, 3, 3]]
    covered, counts = class_coverage(p)
    assert covered == 3 and counts.tolist() == [3, 1, 0, 2, 0]
    assert class_coverage(p, min_count=2)[0] == 2
    with pytest.raises(ValueError, match="min_count"):
        class_coverage(p, min_count=0)


class _OneHotJudge(nn.Module):
    """A 'classifier' whose class is the index of an image's brightest pixel."""

    def forward(self, x):
        return x.reshape(x.shape[0], -1) * 50.0


def test_classifier_inception_score():
    images = np.eye(10, dtype=np.float32)[np.arange(200) % 10].reshape(200, 1, 2, 5)
    judge = _OneHotJudge()
    judge.train()
    result = classifier_inception_score(judge, images, splits=4, batch_size=7)
    assert result.score == pytest.approx(10.0, rel=1e-6) and result.std < 1e-6
    assert result.classes_covered == 10 and result.class_counts.tolist() == [20] * 10
    assert judge.training  # mode restored
    # only digits 0..4 generated: 5 classes, score 5
    half = classifier_inception_score(judge, images[np.arange(200) % 10 < 5], splits=2)
    assert half.score == pytest.approx(5.0, rel=1e-6) and half.classes_covered == 5
    # the same with probabilities given directly
    soft = nn.Sequential(_OneHotJudge(), nn.Softmax(dim=1))
    assert classifier_inception_score(soft, images, splits=4, outputs="probabilities") \
        .score == pytest.approx(result.score)
    with pytest.raises(ValueError, match=r"\(N, K\) scores"):
        classifier_inception_score(nn.Flatten(0), images)
    with pytest.raises(ValueError, match="outputs must be"):
        classifier_inception_score(judge, images, outputs="softmax")
    with pytest.raises(TypeError, match="classifier must be"):
        classifier_inception_score(3, images)
