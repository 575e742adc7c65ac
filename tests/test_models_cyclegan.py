"""Tests for shendu.models.cyclegan: CycleGAN's losses and updates on tiny networks, the
image pool of past fakes, translation, and saving/loading."""
import numpy as np
import pytest

import shendu
from shendu import nn
from shendu.models.cyclegan import CycleGAN, ImagePool
from shendu.models.patchgan import PatchGANDiscriminator
from shendu.models.unet import UNet


def tiny_gan(seed=0, **kwargs):
    shendu.manual_seed(seed)
    return CycleGAN(UNet(1, 1, 4, depth=2), UNet(1, 1, 4, depth=2),
                    PatchGANDiscriminator(1, 4, n_layers=1),
                    PatchGANDiscriminator(1, 4, n_layers=1), **kwargs)


def images(n, seed, invert=False):
    """Smooth blobs in [-1, 1] (domain A), or their negatives (domain B)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:16, 0:16]
    cy, cx = rng.uniform(4, 12, (2, n, 1, 1))
    x = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 8.0) * 2 - 1
    x = -x if invert else x
    return shendu.tensor(x[:, None].astype(np.float32))


def params(module):
    return [p.detach().numpy().copy() for p in module.parameters()]


def changed(before, module):
    return any(not np.array_equal(b, p.detach().numpy()) for b, p in
               zip(before, module.parameters()))


# ---------------------------------------------------------------------- ImagePool
def test_pool_fills_then_swaps_with_probability_p():
    shendu.manual_seed(0)
    pool = ImagePool(pool_size=4)
    first = shendu.tensor(np.arange(6, dtype=np.float32).reshape(6, 1))
    out = pool.query(first).numpy()[:, 0]
    np.testing.assert_array_equal(out[:4], [0, 1, 2, 3])  # stored and returned as given
    assert len(pool) == 4
    # the two that found the pool full: each is itself or was swapped for a stored one
    for k in (4, 5):
        assert out[k] == k or (out[k] in (0, 1, 2, 3) and k in pool.images[:, 0])
    assert sorted(set(out) | set(pool.images[:, 0])) == [0, 1, 2, 3, 4, 5]

    # p = 1: every new image is exchanged for a distinct stored one
    always = ImagePool(pool_size=4, p=1.0)
    always.query(first[:4])
    new = shendu.tensor(np.array([[10.0], [11.0], [12.0]], dtype=np.float32))
    out = always.query(new).numpy()[:, 0]
    assert len(set(out)) == 3 and set(out) <= {0, 1, 2, 3}
    assert {10.0, 11.0, 12.0} <= set(always.images[:, 0])
    assert len(always) == 4

    # p = 0: new images come back and the pool never changes once full
    never = ImagePool(pool_size=4, p=0.0)
    never.query(first[:4])
    np.testing.assert_array_equal(never.query(new).numpy(), new.numpy())
    np.testing.assert_array_equal(never.images[:, 0], [0, 1, 2, 3])


def test_pool_with_p_one_half_returns_a_mix_and_keeps_every_image_once():
    shendu.manual_seed(0)
    pool = ImagePool(pool_size=50)
    seen = []
    returned = []
    for step in range(40):
        batch = np.arange(step * 8, step * 8 + 8, dtype=np.float32).reshape(8, 1)
        seen.extend(batch[:, 0])
        returned.extend(pool.query(shendu.tensor(batch)).numpy()[:, 0])
    returned = np.array(returned)
    stored = pool.images[:, 0]
    # nothing is lost or duplicated: every image is stored or was returned; the pool
    # holds distinct images; an image that met a full pool comes back at most once
    assert set(seen) == set(returned) | set(stored)
    assert len(set(stored)) == 50
    values, counts = np.unique(returned, return_counts=True)
    assert counts.max() <= 2 and np.all(counts[values >= 50] == 1)
    old = np.mean(returned[50:] < np.arange(50, len(returned)))
    assert 0.35 < old < 0.65  # about half the answers come from the past


def test_pool_off_detached_and_errors():
    pool = ImagePool(pool_size=0)
    x = shendu.tensor(np.ones((2, 1, 3, 3), np.float32), requires_grad=True)
    out = pool.query(x)
    assert not out.requires_grad and len(pool) == 0
    np.testing.assert_array_equal(out.numpy(), 1.0)
    pool = ImagePool(pool_size=3)
    assert not pool.query(x * 2).requires_grad
    with pytest.raises(ValueError, match=r"\(1, 4, 4\) do not match the stored \(1, 3, 3\)"):
        pool.query(shendu.zeros(2, 1, 4, 4))
    with pytest.raises(ValueError, match="pool_size must be an int >= 0"):
        ImagePool(-1)
    with pytest.raises(ValueError, match="p must be in"):
        ImagePool(5, p=1.5)


# ---------------------------------------------------------------------- losses and steps
def test_train_step_losses_follow_the_formula():
    gan = tiny_gan()
    a, b = images(4, 0), images(3, 1, invert=True)
    losses = gan.train_step(a, b)
    assert sorted(losses) == sorted(["G", "adv_AB", "adv_BA", "cycle_A", "cycle_B",
                                     "identity_AB", "identity_BA", "D_A", "D_B"])
    assert all(np.isfinite(v) for v in losses.values())
    expected = (losses["adv_AB"] + losses["adv_BA"]
                + 10 * (losses["cycle_A"] + losses["cycle_B"])
                + 10 * 0.5 * (losses["identity_AB"] + losses["identity_BA"]))
    assert losses["G"] == pytest.approx(expected, rel=1e-5)
    assert gan.steps == 1
    # the discriminators got their weights back after being frozen for the G step
    assert all(p.requires_grad for p in gan.parameters())


def test_cycle_loss_falls_over_a_few_steps():
    gan = tiny_gan(lr=2e-3)
    a, b = images(8, 0), images(8, 1, invert=True)
    cycle = [gan.train_step(a, b)["cycle_A"] for _ in range(15)]
    assert np.mean(cycle[-3:]) < 0.8 * np.mean(cycle[:3]), cycle
    with shendu.no_grad():
        _, parts, _, _ = gan.generator_losses(a, b)
    assert float(parts["cycle_A"].item()) < cycle[0]


def test_generator_step_leaves_discriminators_to_their_own_step():
    gan = tiny_gan()
    a, b = images(4, 0), images(4, 1, invert=True)
    d_before, g_before = params(gan.D_A), params(gan.G_AB)
    gan.optimizer_D.step = lambda: None  # skip the discriminator update
    gan.train_step(a, b)
    assert changed(g_before, gan.G_AB)
    assert not changed(d_before, gan.D_A)  # frozen during the generator step
    gan2 = tiny_gan()
    d_before, g_before = params(gan2.D_B), params(gan2.G_BA)
    gan2.optimizer_G.step = lambda: None
    gan2.train_step(a, b)
    assert changed(d_before, gan2.D_B) and not changed(g_before, gan2.G_BA)


def test_discriminators_read_fakes_from_the_pool():
    gan = tiny_gan(pool_size=5)
    a, b = images(4, 0), images(4, 1, invert=True)
    gan.train_step(a, b)
    assert len(gan.pool_A) == len(gan.pool_B) == 4
    gan.train_step(a, b)
    assert len(gan.pool_A) == 5
    off = tiny_gan(pool_size=0)
    off.train_step(a, b)
    assert len(off.pool_A) == 0


def _count_calls(module):
    calls = []
    module.register_forward_hook(lambda m, args, out: calls.append(1))
    return calls


def test_identity_loss_off_when_lambda_identity_is_zero():
    a, b = images(4, 0), images(4, 1, invert=True)
    gan = tiny_gan(lambda_identity=0.0)
    calls = _count_calls(gan.G_AB)
    losses = gan.train_step(a, b)
    assert losses["identity_AB"] == losses["identity_BA"] == 0.0
    assert len(calls) == 2  # G_AB(a) and G_AB(G_BA(b)); no G_AB(b)
    assert losses["G"] == pytest.approx(losses["adv_AB"] + losses["adv_BA"] + 10 * (
        losses["cycle_A"] + losses["cycle_B"]), rel=1e-5)
    with_identity = tiny_gan()
    calls = _count_calls(with_identity.G_AB)
    assert with_identity.train_step(a, b)["identity_AB"] > 0 and len(calls) == 3


def test_vanilla_gan_mode_uses_cross_entropy():
    gan = tiny_gan(gan_mode="vanilla")
    a, b = images(4, 0), images(4, 1, invert=True)
    logits = gan.D_B(a)
    expected = float(shendu.nn.functional.binary_cross_entropy_with_logits(
        logits, shendu.ones_like(logits)).item())
    assert float(gan.gan_loss(logits, True).item()) == pytest.approx(expected)
    lsgan = tiny_gan()
    assert float(lsgan.gan_loss(logits, False).item()) == pytest.approx(
        float((logits ** 2).mean().item()))
    losses = gan.train_step(a, b)
    assert 0.3 < losses["D_A"] < 1.2  # near log 2 = 0.69 at the start


# ---------------------------------------------------------------------- translation, saving
def test_translate_in_eval_mode_by_batches():
    shendu.manual_seed(0)
    gan = CycleGAN(UNet(1, 1, 4, depth=2, dropout=0.5, dropout_layers=1),
                   UNet(1, 1, 4, depth=2), PatchGANDiscriminator(1, 4, 1),
                   PatchGANDiscriminator(1, 4, 1))
    a = images(7, 0)
    whole = gan.translate_A_to_B(a).numpy()
    np.testing.assert_allclose(gan.translate_A_to_B(a, batch_size=3).numpy(), whole,
                               atol=1e-6)  # no dropout noise, no batch coupling
    assert whole.shape == (7, 1, 16, 16)
    assert gan.G_AB.training  # the mode is given back
    assert gan.translate_B_to_A(a.numpy()).shape == (7, 1, 16, 16)  # arrays accepted
    with pytest.raises(ValueError, match=r"translate_A_to_B: images must be a batch of "
                                         r"images \(N, C, H, W\), got shape \(16, 16\)"):
        gan.translate_A_to_B(shendu.zeros(16, 16))


def test_save_and_load_round_trip(tmp_path):
    a, b = images(4, 0), images(4, 1, invert=True)
    gan = tiny_gan(seed=0)
    for _ in range(2):
        gan.train_step(a, b)
    path = tmp_path / "cyclegan.safetensors"
    gan.save(path)
    other = tiny_gan(seed=5)  # different initial weights
    assert not np.allclose(other.translate_A_to_B(a).numpy(), gan.translate_A_to_B(a).numpy())
    other.load(path)
    assert other.steps == 2 and len(other.pool_A) == len(gan.pool_A)
    for name in ("translate_A_to_B", "translate_B_to_A"):
        np.testing.assert_array_equal(getattr(other, name)(a).numpy(),
                                      getattr(gan, name)(a).numpy())
    # optimizer moments and pools restored: the next step is the same step
    shendu.manual_seed(7)
    next_gan = gan.train_step(a, b)
    shendu.manual_seed(7)
    next_other = other.train_step(a, b)
    for k in next_gan:
        assert next_other[k] == pytest.approx(next_gan[k], rel=1e-5, abs=1e-7), k
    # weights only
    gan.save(tmp_path / "weights.safetensors", include_optimizers=False)
    third = tiny_gan(seed=9).load(tmp_path / "weights.safetensors")
    np.testing.assert_array_equal(third.translate_A_to_B(a).numpy(),
                                  gan.translate_A_to_B(a).numpy())
    shendu.save({"x": np.zeros(2)}, tmp_path / "other.safetensors")
    with pytest.raises(ValueError, match="not written by CycleGAN.save"):
        third.load(tmp_path / "other.safetensors")


def test_state_dict_names_the_four_networks():
    gan = tiny_gan()
    prefixes = {k.split(".")[0] for k in gan.state_dict()}
    assert prefixes == {"G_AB", "G_BA", "D_A", "D_B"}


def test_constructor_errors():
    g1, g2 = UNet(1, 1, 4, depth=2), UNet(1, 1, 4, depth=2)
    d1, d2 = PatchGANDiscriminator(1, 4, 1), PatchGANDiscriminator(1, 4, 1)
    with pytest.raises(ValueError, match="gan_mode must be 'lsgan' or 'vanilla'"):
        CycleGAN(g1, g2, d1, d2, gan_mode="wgan")
    with pytest.raises(TypeError, match="D_B must be an nn.Module, got function"):
        CycleGAN(g1, g2, d1, lambda x: x)
    with pytest.raises(ValueError, match="distinct modules"):
        CycleGAN(g1, g1, d1, d2)
    with pytest.raises(ValueError, match="lambda_cycle and lambda_identity must be >= 0"):
        CycleGAN(g1, g2, d1, d2, lambda_identity=-1)
    gan = CycleGAN(g1, g2, d1, d2)
    with pytest.raises(ValueError, match=r"train_step: real_B must be a batch of images"):
        gan.train_step(images(2, 0), shendu.zeros(2, 16, 16))
    assert isinstance(gan, nn.Module)
