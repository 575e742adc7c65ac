"""shendu.models.vae: the VAE of PyTorch's examples/vae (shapes, reparameterisation,
sampling, errors), its loss (by hand, float64 gradcheck w.r.t. mu and logvar) and
conformance with PyTorch: vae_loss against the script's loss_function, and the forward pass
and gradients of a VAE whose weights are copied into the script's model."""
import numpy as np
import pytest

import shendu
from shendu import optim
from shendu.autograd.gradcheck import gradcheck
from shendu.models.vae import VAE, gaussian_kl_divergence, vae_loss


def _torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                               "tests need `pip install torch`")


def _batch(n=6, seed=0, d=784):
    return np.random.default_rng(seed).random((n, d)).astype(np.float32)


# ------------------------------------------------------------------ the model
def test_vae_default_architecture_is_pytorchs():
    model = VAE()
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert shapes == {"fc1.weight": (400, 784), "fc1.bias": (400,),
                      "fc21.weight": (20, 400), "fc21.bias": (20,),
                      "fc22.weight": (20, 400), "fc22.bias": (20,),
                      "fc3.weight": (400, 20), "fc3.bias": (400,),
                      "fc4.weight": (784, 400), "fc4.bias": (784,)}
    assert sum(p.numel() for p in model.parameters()) == 652824


def test_vae_forward_shapes_and_ranges():
    shendu.manual_seed(0)
    model = VAE(in_features=64, hidden=32, latent_dim=3)
    x = shendu.tensor(_batch(5, d=64)).reshape(5, 1, 8, 8)
    with shendu.no_grad():
        recon, mu, logvar = model(x)
    assert recon.shape == (5, 64) and mu.shape == logvar.shape == (5, 3)
    assert ((recon.numpy() > 0) & (recon.numpy() < 1)).all()


def test_reparameterize_formula_and_given_eps():
    mu = shendu.tensor([[1.0, -2.0]])
    logvar = shendu.tensor([[0.0, np.log(4.0)]])
    z = VAE.reparameterize(mu, logvar, eps=np.array([[0.5, 1.5]], np.float32))
    np.testing.assert_allclose(z.numpy(), [[1.5, 1.0]], rtol=1e-6)  # mu + 0.5 -> std 2
    shendu.manual_seed(0)
    draws = VAE.reparameterize(shendu.full((20000, 1), 3.0),
                               shendu.full((20000, 1), float(np.log(0.25)))).numpy()
    assert abs(draws.mean() - 3.0) < 0.01 and abs(draws.std() - 0.5) < 0.01
    with pytest.raises(ValueError, match="eps has shape"):
        VAE.reparameterize(mu, logvar, eps=np.zeros((2, 2), np.float32))


def test_forward_with_eps_is_deterministic_and_gradients_reach_mu_and_logvar():
    shendu.manual_seed(0)
    model = VAE(in_features=16, hidden=8, latent_dim=2)
    x = shendu.tensor(_batch(4, d=16))
    eps = shendu.tensor(np.ones((4, 2), np.float32))
    a = model(x, eps=eps)[0].detach().numpy()
    b = model(x, eps=eps)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)
    recon, mu, logvar = model(x, eps=eps)
    vae_loss(recon, x, mu, logvar).backward()
    for name in ("fc1", "fc21", "fc22", "fc3", "fc4"):
        g = getattr(model, name).weight.grad
        assert g is not None and np.abs(g.numpy()).sum() > 0, name


def test_sample_decodes_prior_codes():
    shendu.manual_seed(0)
    model = VAE(in_features=16, hidden=8, latent_dim=2)
    out = model.sample(5)
    assert out.shape == (5, 16) and not out.requires_grad
    z = np.zeros((3, 2), np.float32)
    with shendu.no_grad():
        expected = model.decode(shendu.tensor(z)).numpy()
    np.testing.assert_allclose(model.sample(3, z=z).numpy(), expected)
    with pytest.raises(ValueError, match=r"z must have shape \(3, 2\)"):
        model.sample(3, z=np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match="n must be a positive int"):
        model.sample(0)


def test_vae_errors():
    model = VAE(in_features=16, hidden=8, latent_dim=2)
    with pytest.raises(ValueError, match=r"VAE\(in_features=16\) got input of shape \(3, 15\)"):
        model(shendu.zeros(3, 15))
    with pytest.raises(ValueError, match=r"expected codes of shape \(N, 2\)"):
        model.decode(shendu.zeros(3, 5))
    with pytest.raises(ValueError, match="latent_dim must be a positive int"):
        VAE(latent_dim=0)
    with pytest.raises(ValueError, match="x has 10 values"):
        vae_loss(shendu.full((2, 4), 0.5), shendu.zeros(2, 5), shendu.zeros(2, 1),
                 shendu.zeros(2, 1))


def test_vae_learns_a_tiny_dataset():
    """Two prototype images: after training, reconstructions from the mean code are close
    to them and the loss fell by far."""
    protos = np.zeros((2, 16), np.float32)
    protos[0, :8] = 1
    protos[1, 8:] = 1
    data = shendu.tensor(protos[np.arange(64) % 2])
    shendu.manual_seed(0)
    model = VAE(in_features=16, hidden=16, latent_dim=2)
    opt = optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(200):
        opt.zero_grad()
        recon, mu, logvar = model(data)
        loss = vae_loss(recon, data, mu, logvar) / 64
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.25 * losses[0]
    with shendu.no_grad():
        mu, _ = model.encode(shendu.tensor(protos))
        np.testing.assert_array_equal(model.decode(mu).numpy() > 0.5, protos > 0.5)


# ------------------------------------------------------------------ the loss
def test_vae_loss_by_hand():
    rng = np.random.default_rng(0)
    recon = rng.uniform(0.05, 0.95, (3, 5))
    x = rng.random((3, 5))
    mu, logvar = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    bce = -np.sum(x * np.log(recon) + (1 - x) * np.log(1 - recon))
    kld = -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar))
    got = vae_loss(*(shendu.tensor(a) for a in (recon, x, mu, logvar)))
    np.testing.assert_allclose(got.item(), bce + kld, rtol=1e-12)
    beta = vae_loss(*(shendu.tensor(a) for a in (recon, x, mu, logvar)), beta=4.0)
    np.testing.assert_allclose(beta.item(), bce + 4 * kld, rtol=1e-12)
    t = [shendu.tensor(a) for a in (mu, logvar)]
    np.testing.assert_allclose(gaussian_kl_divergence(*t, reduction="batchmean").item(),
                               kld / 3, rtol=1e-12)
    per = gaussian_kl_divergence(*t, reduction="none").numpy()
    np.testing.assert_allclose(per, -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar),
                                                  axis=1), rtol=1e-12)
    with pytest.raises(ValueError, match="reduction must be"):
        gaussian_kl_divergence(*t, reduction="mean")


def test_vae_loss_gradcheck_mu_logvar_and_recon():
    rng = np.random.default_rng(1)
    recon = shendu.tensor(rng.uniform(0.1, 0.9, (3, 4)), dtype=shendu.float64,
                          requires_grad=True)
    x = shendu.tensor(rng.random((3, 4)), dtype=shendu.float64)
    mu = shendu.tensor(rng.normal(size=(3, 2)), dtype=shendu.float64, requires_grad=True)
    logvar = shendu.tensor(rng.normal(size=(3, 2)), dtype=shendu.float64, requires_grad=True)
    assert gradcheck(lambda r, m, lv: vae_loss(r, x, m, lv), [recon, mu, logvar])
    # the closed forms: d KL / d mu = mu, d KL / d logvar = (exp(logvar) - 1) / 2
    mu.grad = logvar.grad = None
    gaussian_kl_divergence(mu, logvar).backward()
    np.testing.assert_allclose(mu.grad.numpy(), mu.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(logvar.grad.numpy(),
                               (np.exp(logvar.detach().numpy()) - 1) / 2, rtol=1e-12)


def test_vae_loss_through_the_model_matches_central_differences():
    """The whole model in float64 with a fixed eps: the gradient of the loss w.r.t. the
    mu-layer's weights, through the reparameterised code, against central differences."""
    from shendu.autograd.gradcheck import numerical_gradient
    shendu.manual_seed(0)
    model = VAE(in_features=6, hidden=4, latent_dim=2).to(shendu.float64)
    x = shendu.tensor(_batch(3, d=6), dtype=shendu.float64)
    eps = shendu.tensor(np.random.default_rng(0).normal(size=(3, 2)), dtype=shendu.float64)
    for layer in (model.fc21, model.fc22):
        model.zero_grad()
        vae_loss(model(x, eps=eps)[0], x, *model(x, eps=eps)[1:]).backward()
        analytic = layer.weight.grad.numpy().copy()
        base = layer.weight.detach().numpy().copy()

        def loss_at(w):
            with shendu.no_grad():
                layer.weight._data[...] = w
                recon, mu, logvar = model(x, eps=eps)
                value = vae_loss(recon, x, mu, logvar).item()
                layer.weight._data[...] = base
            return value

        np.testing.assert_allclose(analytic, numerical_gradient(loss_at, base.copy()),
                                   rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------ PyTorch conformance
def _torch_loss_function(torch):
    F = torch.nn.functional

    def loss_function(recon_x, x, mu, logvar):  # examples/vae/main.py
        BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
        KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return BCE + KLD
    return loss_function


def test_vae_loss_matches_torch():
    torch = _torch()
    loss_function = _torch_loss_function(torch)
    rng = np.random.default_rng(2)
    recon = rng.uniform(0.0, 1.0, (8, 784)).astype(np.float32)
    recon[0, :3] = [0.0, 1.0, 1e-9]  # saturated outputs: both clamp the logs at -100
    x = (rng.random((8, 1, 28, 28)) > 0.5).astype(np.float32)
    mu = rng.normal(size=(8, 20)).astype(np.float32)
    logvar = rng.normal(size=(8, 20)).astype(np.float32)
    ours = [shendu.tensor(a, requires_grad=True) for a in (recon, mu, logvar)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (recon, mu, logvar)]
    a = vae_loss(ours[0], shendu.tensor(x), ours[1], ours[2])
    b = loss_function(theirs[0], torch.tensor(x), theirs[1], theirs[2])
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-6)
    a.backward()
    b.backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_vae_forward_and_backward_match_torch_with_copied_weights():
    torch = _torch()
    from torch import nn
    F = torch.nn.functional

    class TorchVAE(nn.Module):  # examples/vae/main.py, with the noise passed in
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 400)
            self.fc21 = nn.Linear(400, 20)
            self.fc22 = nn.Linear(400, 20)
            self.fc3 = nn.Linear(20, 400)
            self.fc4 = nn.Linear(400, 784)

        def forward(self, x, eps):
            h1 = F.relu(self.fc1(x.view(-1, 784)))
            mu, logvar = self.fc21(h1), self.fc22(h1)
            z = mu + eps * torch.exp(0.5 * logvar)
            return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar

    shendu.manual_seed(0)
    ours = VAE()
    theirs = TorchVAE()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = _batch(16, seed=3).reshape(16, 1, 28, 28)
    eps = np.random.default_rng(4).standard_normal((16, 20)).astype(np.float32)
    out_a = ours(shendu.tensor(x), eps=shendu.tensor(eps))
    out_b = theirs(torch.tensor(x), torch.tensor(eps))
    for a, b in zip(out_a, out_b):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4,
                                   atol=1e-6)
    loss_a = vae_loss(out_a[0], shendu.tensor(x), out_a[1], out_a[2])
    loss_b = _torch_loss_function(torch)(out_b[0], torch.tensor(x), out_b[1], out_b[2])
    np.testing.assert_allclose(loss_a.item(), loss_b.item(), rtol=1e-5)
    loss_a.backward()
    loss_b.backward()
    params_b = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        g_b = params_b[name].grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), g_b, rtol=1e-3,
                                   atol=1e-4 * np.abs(g_b).max(), err_msg=name)
