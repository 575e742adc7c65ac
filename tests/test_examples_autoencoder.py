"""Quick runs of the autoencoder lessons: examples/autoencoder_mnist.py,
examples/recommender_autoencoder.py and examples/vae_mnist.py.

Each runs with ``--quick`` (a few thousand digits or a small ratings matrix, a few epochs)
and is checked for what can go wrong: losses fall, the reported figures agree with what
they are computed from, the models beat the trivial baselines even after little training,
the PyTorch replica agrees with shendu, and the PNGs are real images. The full figures
(test BCE <= 0.10, VAE within 1% of PyTorch) take minutes and belong to the full runs."""
import numpy as np
import pytest

from test_examples import assert_png, data_dir_with, load_example

pytest.importorskip("matplotlib")

IDX = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def mnist_dir():
    return data_dir_with(*(f"mnist/{name}" for name in IDX))


# ---------------------------------------------------------------- autoencoder_mnist
def test_autoencoder_mnist_quick(tmp_path, monkeypatch):
    data = mnist_dir()
    ex = load_example("autoencoder_mnist", monkeypatch)
    r = ex.main(["--quick", "--out", str(tmp_path), "--data-dir", str(data), "--verbose", "0"])
    loss = r["history"]["loss"]
    assert len(loss) == 5 and loss[-1] < loss[0]
    # BCE per pixel: constant 0.5 gives log 2 = 0.693; the mean image about 0.27 on MNIST
    assert 0.05 < r["dense_test_bce"] < 0.6, r["dense_test_bce"]
    assert r["dense_test_bce"] == pytest.approx(r["history"]["val_loss"][-1], rel=1e-4)
    assert r["conv_test_bce"] < 0.6 and r["conv_losses"][-1] < np.log(2)
    # denoising: the output is closer to the clean digit than the noisy input was
    assert r["denoise_test_bce"] < r["noisy_input_bce"]
    assert r["codes_test"].shape == (500, 32)
    # retrieval: far above chance (0.1) in both spaces
    assert r["precision_code"] > 0.4 and r["precision_pixels"] > 0.6
    assert_png(r["recon_png"], min_size=(800, 300))
    assert_png(r["retrieval_png"], min_size=(500, 600))


def test_autoencoder_mnist_bce_and_mosaic_helpers(monkeypatch):
    ex = load_example("autoencoder_mnist", monkeypatch)
    target = np.array([[0.0, 1.0, 1.0]])
    assert ex.bce_per_pixel(np.array([[0.5, 0.5, 0.5]]), target) == pytest.approx(np.log(2))
    assert ex.bce_per_pixel(target, target) < 1e-6  # clipped at 1e-7, no log(0)
    img = ex.framed_mosaic([[np.ones(784)] * 3, [np.zeros(784)]],
                           [[(1, 0, 0), None, None], [None]], pad=2)
    assert img.shape == (2 * 32, 3 * 32, 3)
    np.testing.assert_array_equal(img[1, 1], [1, 0, 0])  # the red frame of cell (0, 0)
    np.testing.assert_array_equal(img[34:62, 2:30], 0.0)  # the black digit of cell (1, 0)


# ---------------------------------------------------------------- recommender_autoencoder
def test_synthetic_ratings_look_like_movielens(monkeypatch):
    ex = load_example("recommender_autoencoder", monkeypatch)
    ratings, mask = ex.synthetic_ratings()
    assert ratings.shape == mask.shape == (943, 1682)
    assert mask.sum() == 100_000 and mask.sum(axis=1).min() >= 20
    assert np.isnan(ratings[~mask]).all()
    observed = ratings[mask]
    assert set(np.unique(observed)) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert 3.3 < observed.mean() < 3.8
    counts = np.sort(mask.sum(axis=0))[::-1]
    assert counts[0] > 10 * np.median(counts)  # blockbusters and a long tail
    again, mask2 = ex.synthetic_ratings()
    np.testing.assert_array_equal(mask, mask2)  # seeded
    train, test = ex.split_per_user(mask)
    assert not (train & test).any() and ((train | test) == mask).all()
    assert abs(test.sum() / mask.sum() - 0.1) < 0.005


def test_baselines_by_hand(monkeypatch):
    ex = load_example("recommender_autoencoder", monkeypatch)
    ratings = np.array([[5, 3, np.nan], [4, np.nan, 1]], dtype=np.float32)
    train = ~np.isnan(ratings)
    pred = ex.baselines(ratings, train, damping=0.0)
    np.testing.assert_allclose(pred["global mean"], 13 / 4)
    np.testing.assert_allclose(pred["per-movie mean"][0], [4.5, 3.0, 1.0])
    np.testing.assert_allclose(pred["per-user mean"][:, 0], [4.0, 2.5])
    assert ex.rmse(pred["per-movie mean"], ratings, train) == pytest.approx(
        np.sqrt((0.25 + 0.25 + 0 + 0) / 4))


def test_recommender_autoencoder_quick(tmp_path, monkeypatch):
    ex = load_example("recommender_autoencoder", monkeypatch)
    r = ex.main(["--quick", "--out", str(tmp_path)])
    scores, history = r["scores"], r["history"]
    assert history["loss"][-1] < history["loss"][0]
    assert scores["autoencoder"] == history["test_rmse"][-1]
    # after a quick run it already beats the global and per-movie means on held-out ratings
    assert scores["autoencoder"] < scores["per-movie mean"] < scores["global mean"]
    assert r["test"].sum() > 1000 and not (r["train"] & r["test"]).any()
    assert_png(r["png"], min_size=(800, 300))


# ---------------------------------------------------------------- vae_mnist
def test_vae_mnist_quick(tmp_path, monkeypatch):
    data = mnist_dir()
    ex = load_example("vae_mnist", monkeypatch)
    r = ex.main(["--quick", "--out", str(tmp_path), "--data-dir", str(data)])
    h = r["history"]
    assert len(h["shendu_test"]) == 2 and h["shendu_test"][1] < h["shendu_test"][0]
    # BCE of a constant 0.5 image is 784 log 2 = 543; two quick epochs get far below it
    assert h["shendu_test"][-1] < 300
    if h["torch_test"]:  # PyTorch installed: same weights, batches and noise
        assert r["relative_difference"] < 0.01
        np.testing.assert_allclose(h["shendu_train"], h["torch_train"], rtol=1e-3)
    assert r["latent_mu"].shape == (500, 2) and r["latent_test_loss"] < 300
    assert_png(r["png"], min_size=(1000, 700))


def test_vae_mnist_latent_grid_codes(monkeypatch):
    ex = load_example("vae_mnist", monkeypatch)
    codes = ex.latent_map_codes(5)
    assert codes.shape == (25, 2)
    np.testing.assert_allclose(codes[12], [0.0, 0.0], atol=1e-7)   # the centre
    np.testing.assert_allclose(codes[0], [-1.6449, 1.6449], atol=1e-4)  # top left
    assert ex.mosaic(np.zeros((10, 784)), 4).shape == (3 * 30 + 2, 4 * 30 + 2)
