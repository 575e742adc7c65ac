"""A variational autoencoder on MNIST, on shendu and on PyTorch side by side: samples and a
2-D latent map.

Lessons 003 (自編碼網路, and "GAN vs VAE": a VAE's samples are blurrier but its training is
stable) and 004 ("無中生有 Generative model": a code goes through a function and comes out
as an image). An autoencoder's code space has holes: decoding a random code gives noise.
The VAE makes the encoder output a distribution ``N(mu, exp(logvar))``, samples the code
``z = mu + exp(0.5 logvar) * eps`` (the reparameterisation trick, so gradients reach mu
and logvar), and adds to the reconstruction loss the KL divergence that pulls every
``q(z|x)`` towards ``N(0, I)``. Afterwards, decoding ``z ~ N(0, I)`` draws new digits.

The model and recipe are PyTorch's ``examples/vae/main.py``: 784-400-20 (fc1, fc21/fc22
for mu/logvar, fc3, fc4 with a sigmoid), loss = BCE(sum) + KL(sum), Adam lr 1e-3, batch
128, shuffled, 10 epochs; the printed figure is the summed test loss over the 10,000 test
images divided by 10,000. PyTorch (when installed) trains a replica of that script in the
same run, from the *same* initial weights (copied from shendu's model), on the same
batch order and with the same noise ``eps`` (drawn once by NumPy and given to both), so the
two curves differ only by floating-point rounding.

Then a VAE with a 2-D latent space trains briefly for the classic pictures: the test
digits' means ``mu`` scattered by class, and the decoder's "manifold" over a grid of codes
at Gaussian quantiles.

Data: the MNIST files in ``$SHENDU_DATA/mnist/`` (else ``../shared/data`` beside the
repository), pixels scaled to [0, 1] as ``transforms.ToTensor()`` does.

Run: python examples/vae_mnist.py [--epochs 10] [--latent-epochs 10] [--out examples_output]

Measured (2-core AMD EPYC, AVX2; 10 epochs, seed 0, one thread each, the machine shared
with other jobs). Test set loss (summed BCE + KL per test image):

    epoch        1       2       3       4       5       6       7       8       9      10
    shendu    127.78  116.16  111.75  109.82  108.45  107.44  107.48  106.29  106.01  105.56
    PyTorch   127.77  116.03  111.76  109.78  108.44  107.39  107.42  106.27  105.97  105.56

Final test loss: shendu 105.5558, PyTorch 105.5602, a relative difference of 0.004%
(target: within 1%); the largest gap over the 10 epochs is 0.11% (epoch 2). The same
starting weights, batches and noise make the two runs agree within 0.01% after one
epoch; float32 rounding then lets them drift apart by up to a tenth of a nat. Training loss
after epoch 10: 106.22 (shendu) and 106.24 (PyTorch). The sample grids of the two models,
decoded from the same 32 codes, look alike digit for digit. Seconds per epoch (train +
test) on the loaded machine: shendu 15-34, PyTorch 11-45 (too noisy to rank them). The
2-D latent VAE after 10 epochs: test loss 154.68 (its map separates 0, 1, 6 and 7 well;
4/9 and 3/5/8 overlap, as usual for two dimensions). Wall time 679 s. ``--quick``: 10 s.
"""
import argparse
import os
import time
from pathlib import Path
from statistics import NormalDist

import numpy as np

import shendu
from shendu import optim
from shendu.datasets import mnist
from shendu.models.vae import VAE, vae_loss


def default_data_dir():
    """``$SHENDU_DATA`` when set, else the shared data folder beside the repository."""
    if os.environ.get("SHENDU_DATA"):
        return None
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def load_data(data_dir=None, n_train=None, n_test=None):
    x_train, _ = mnist("train", data_dir=data_dir, normalize=True, flatten=True)
    x_test, y_test = mnist("test", data_dir=data_dir, normalize=True, flatten=True)
    return x_train[:n_train], x_test[:n_test], y_test[:n_test]


def batches(n, batch_size, rng, shuffle=True):
    """The index blocks of one epoch (a fresh permutation when ``shuffle``)."""
    order = rng.permutation(n) if shuffle else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def draw_eps(rng, batch_list, latent_dim):
    """One block of N(0, 1) noise per batch, float32, shared by both frameworks."""
    return [rng.standard_normal((len(b), latent_dim)).astype(np.float32) for b in batch_list]


# ------------------------------------------------------------------------- shendu
def shendu_epoch(model, opt, x, batch_list, eps_list):
    """One training epoch; returns the mean loss per image (PyTorch's "Average loss")."""
    model.train()
    total = 0.0
    for idx, eps in zip(batch_list, eps_list):
        data = shendu.tensor(x[idx])
        opt.zero_grad()
        recon, mu, logvar = model(data, eps=shendu.tensor(eps))
        loss = vae_loss(recon, data, mu, logvar)
        loss.backward()
        total += loss.item()
        opt.step()
    return total / len(x)


def shendu_test(model, x, batch_list, eps_list):
    model.eval()
    total = 0.0
    with shendu.no_grad():
        for idx, eps in zip(batch_list, eps_list):
            data = shendu.tensor(x[idx])
            recon, mu, logvar = model(data, eps=shendu.tensor(eps))
            total += vae_loss(recon, data, mu, logvar).item()
    return total / len(x)


# ------------------------------------------------------------------------- PyTorch
def torch_replica(shendu_model):
    """PyTorch's examples/vae model, with ``shendu_model``'s weights copied in."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class TorchVAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 400)
            self.fc21 = nn.Linear(400, 20)
            self.fc22 = nn.Linear(400, 20)
            self.fc3 = nn.Linear(20, 400)
            self.fc4 = nn.Linear(400, 784)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar, eps):
            std = torch.exp(0.5 * logvar)
            return mu + eps * std

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return torch.sigmoid(self.fc4(h3))

        def forward(self, x, eps):
            mu, logvar = self.encode(x.view(-1, 784))
            z = self.reparameterize(mu, logvar, eps)
            return self.decode(z), mu, logvar

    def loss_function(recon_x, x, mu, logvar):
        BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
        KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return BCE + KLD

    model = TorchVAE()
    model.load_state_dict({k: torch.tensor(v.numpy()) for k, v in
                           shendu_model.state_dict().items()})
    return model, loss_function


def torch_epoch(model, loss_function, opt, x, batch_list, eps_list, test=False):
    import torch
    model.train(not test)
    total = 0.0
    with torch.set_grad_enabled(not test):
        for idx, eps in zip(batch_list, eps_list):
            data = torch.from_numpy(x[idx])
            recon, mu, logvar = model(data, torch.from_numpy(eps))
            loss = loss_function(recon, data, mu, logvar)
            if not test:
                opt.zero_grad()
                loss.backward()
                opt.step()
            total += loss.item()
    return total / len(x)


# ------------------------------------------------------------------------- pictures
def mosaic(images, ncols, side=28, pad=2):
    """(N, side*side) images in [0, 1] as one (rows*(side+pad), ncols*(side+pad)) array."""
    n = len(images)
    nrows = -(-n // ncols)
    out = np.ones((nrows * (side + pad) + pad, ncols * (side + pad) + pad), np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        out[pad + r * (side + pad):pad + r * (side + pad) + side,
            pad + c * (side + pad):pad + c * (side + pad) + side] = img.reshape(side, side)
    return out


def latent_map_codes(n=15):
    """An n x n grid of 2-D codes at the Gaussian quantiles 0.05 .. 0.95 (rows: z2 from
    high to low, columns: z1 from low to high)."""
    q = [NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, n)]
    return np.array([[z1, z2] for z2 in q[::-1] for z1 in q], dtype=np.float32)


def plot(samples, torch_samples, recon_pairs, mu2, y_test, manifold, n_grid, path, title):
    """Top: samples (shendu, PyTorch) and reconstructions; bottom: the 2-D latent map."""
    from shendu.viz._mpl import finish, new_figure
    fig = new_figure("vae_mnist", figsize=(15, 10.5))
    grid = fig.add_gridspec(2, 6, height_ratios=[1, 1.6])
    tops = [(samples, "shendu VAE: decoded z ~ N(0, I), 20-d")]
    if torch_samples is not None:
        tops.append((torch_samples, "PyTorch replica: the same z"))
    tops.append((recon_pairs, "test digits (rows 1, 3) and reconstructions"))
    width = 6 // len(tops)
    for i, (images, name) in enumerate(tops):
        ax = fig.add_subplot(grid[0, i * width:(i + 1) * width])
        ax.imshow(mosaic(images, 8), cmap="gray", vmin=0, vmax=1)
        ax.set_title(name)
        ax.set_axis_off()
    ax = fig.add_subplot(grid[1, :3])
    sc = ax.scatter(mu2[:, 0], mu2[:, 1], c=y_test, cmap="tab10", s=3, alpha=0.7,
                    vmin=-0.5, vmax=9.5)
    ax.set_title("2-D latent VAE: the test digits' mu, by class")
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    fig.colorbar(sc, ax=ax, ticks=range(10), fraction=0.046)
    ax = fig.add_subplot(grid[1, 3:])
    ax.imshow(mosaic(manifold, n_grid, pad=0), cmap="gray", vmin=0, vmax=1)
    ax.set_title("2-D latent VAE: decoded codes at Gaussian quantiles 0.05..0.95")
    ax.set_axis_off()
    fig.suptitle(title)
    fig.tight_layout()
    finish(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding mnist/ (default: $SHENDU_DATA, else "
                             "../shared/data beside the repository)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--latent-epochs", type=int, default=10,
                        help="epochs of the 2-D latent VAE drawn as a map")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch replica")
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="2000 training and 500 test images, 2 epochs (for tests)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.latent_epochs = 2, 2
    t_start = time.perf_counter()
    sizes = dict(n_train=2000, n_test=500) if args.quick else {}
    x_train, x_test, y_test = load_data(args.data_dir or default_data_dir(), **sizes)
    print(f"{len(x_train)} training and {len(x_test)} test images")

    torch = None
    if not args.no_torch:
        try:
            import torch
            torch.manual_seed(args.seed)
        except ImportError:
            print("PyTorch is not installed: the replica is skipped")

    shendu.manual_seed(args.seed)
    model = VAE()  # 784-400-20
    opt = optim.Adam(model.parameters(), lr=1e-3)
    if torch is not None:
        tmodel, tloss = torch_replica(model)
        topt = torch.optim.Adam(tmodel.parameters(), lr=1e-3)
    rng = np.random.default_rng(args.seed)
    history = {"shendu_train": [], "shendu_test": [], "torch_train": [], "torch_test": [],
               "shendu_seconds": [], "torch_seconds": []}
    for epoch in range(1, args.epochs + 1):
        train_b = batches(len(x_train), args.batch_size, rng)
        train_eps = draw_eps(rng, train_b, model.latent_dim)
        test_b = batches(len(x_test), args.batch_size, rng, shuffle=False)
        test_eps = draw_eps(rng, test_b, model.latent_dim)
        t0 = time.perf_counter()
        history["shendu_train"].append(shendu_epoch(model, opt, x_train, train_b, train_eps))
        history["shendu_test"].append(shendu_test(model, x_test, test_b, test_eps))
        history["shendu_seconds"].append(time.perf_counter() - t0)
        line = (f"====> Epoch: {epoch} shendu  Average loss: {history['shendu_train'][-1]:.4f}"
                f"  Test set loss: {history['shendu_test'][-1]:.4f}"
                f"  ({history['shendu_seconds'][-1]:.1f} s)")
        if torch is not None:
            t0 = time.perf_counter()
            history["torch_train"].append(torch_epoch(tmodel, tloss, topt, x_train, train_b,
                                                      train_eps))
            history["torch_test"].append(torch_epoch(tmodel, tloss, None, x_test, test_b,
                                                     test_eps, test=True))
            history["torch_seconds"].append(time.perf_counter() - t0)
            line += (f"\n             PyTorch Average loss: {history['torch_train'][-1]:.4f}"
                     f"  Test set loss: {history['torch_test'][-1]:.4f}"
                     f"  ({history['torch_seconds'][-1]:.1f} s)")
        print(line, flush=True)
    rel = None
    if torch is not None:
        rel = abs(history["shendu_test"][-1] / history["torch_test"][-1] - 1)
        print(f"final test loss: shendu {history['shendu_test'][-1]:.4f}, PyTorch "
              f"{history['torch_test'][-1]:.4f}, relative difference {100 * rel:.3f}% "
              f"(target < 1%)")

    # samples from the prior (the same codes for both), and reconstructions by the mean
    z = np.random.default_rng(args.seed + 1).standard_normal((32, model.latent_dim)) \
        .astype(np.float32)
    samples = model.sample(32, z=z).numpy()
    torch_samples = None
    if torch is not None:
        with torch.no_grad():
            torch_samples = tmodel.decode(torch.from_numpy(z)).numpy()
    with shendu.no_grad():
        mu, _ = model.encode(shendu.tensor(x_test[:16]))
        recon = model.decode(mu).numpy()
    recon_pairs = np.concatenate([np.stack([x_test[r * 8:(r + 1) * 8], recon[r * 8:(r + 1) * 8]])
                                  for r in range(2)]).reshape(-1, 784)

    # the 2-D latent VAE for the map
    shendu.manual_seed(args.seed)
    model2 = VAE(latent_dim=2)
    opt2 = optim.Adam(model2.parameters(), lr=1e-3)
    for epoch in range(1, args.latent_epochs + 1):
        b = batches(len(x_train), args.batch_size, rng)
        loss2 = shendu_epoch(model2, opt2, x_train, b, draw_eps(rng, b, 2))
    tb = batches(len(x_test), args.batch_size, rng, shuffle=False)
    test2 = shendu_test(model2, x_test, tb, draw_eps(rng, tb, 2))
    print(f"2-D latent VAE, {args.latent_epochs} epochs: train loss {loss2:.2f}, test loss "
          f"{test2:.2f}")
    with shendu.no_grad():
        mu2 = np.concatenate([model2.encode(shendu.tensor(x_test[i:i + 1000]))[0].numpy()
                              for i in range(0, len(x_test), 1000)])
    n_grid = 15
    manifold = model2.sample(n_grid * n_grid, z=latent_map_codes(n_grid)).numpy()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "vae_mnist.png"
    title = f"VAE 784-400-20, {args.epochs} epochs: test loss shendu " \
            f"{history['shendu_test'][-1]:.2f}"
    if torch is not None:
        title += f", PyTorch {history['torch_test'][-1]:.2f}"
    title += f"; 2-D latent VAE ({args.latent_epochs} epochs) test loss {test2:.2f}"
    plot(samples, torch_samples, recon_pairs, mu2, y_test, manifold, n_grid, png, title)
    wall = time.perf_counter() - t_start
    print(f"Saved {png}  (wall time {wall:.0f} s)")
    return dict(model=model, history=history, relative_difference=rel,
                latent_test_loss=test2, latent_mu=mu2, y_test=y_test, png=png,
                wall_seconds=wall)


if __name__ == "__main__":
    main()
