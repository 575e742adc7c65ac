"""Stand-ins for the few torchvision pieces the example programs use (torchvision is not
installed and the machines have no internet): ``datasets.MNIST`` / ``datasets.FashionMNIST``
over the local IDX files in ``$SHENDU_DATA`` (read with ``shendu.datasets``), the
``transforms`` they are used with, and ``utils.save_image``.

The objects give tensors of whatever library the running program calls ``torch``: the
program's ``__main__.torch`` (``shendu`` after ``import shendu as torch``, else real
PyTorch). So one file serves both runs of the harness.

    from local_data import datasets, transforms      # replaces: from torchvision import ...
    ds = datasets.MNIST('../data', train=True, download=True,
                        transform=transforms.Compose([transforms.ToTensor(),
                                                      transforms.Normalize((0.1307,), (0.3081,))]))

Each sample is ``(image, label)``: ``image`` as the transforms leave it (a ``uint8`` (H, W)
NumPy array before ``ToTensor``, as a PIL image would be), ``label`` a Python int, like
torchvision. ``limit`` (an addition) keeps the first ``limit`` images, for reduced runs.

``write_wikitext(folder, words)`` stands in for word_language_model's WikiText-2 download:
it writes ``train.txt`` / ``valid.txt`` / ``test.txt`` in WikiText's form (space-separated
tokens, punctuation split off, rare words as ``<unk>``) made from tiny-shakespeare
(``$SHENDU_DATA/tinyshakespeare/input.txt``), at run time, into the run's folder:

    python local_data.py wikitext data/wikitext-2 20000    # 20000 train tokens, 1/10 each
"""
from __future__ import annotations

import os
import re
import sys
import types

import numpy as np


def _lib():
    """The tensor library the running program imported as ``torch``."""
    main = sys.modules.get("__main__")
    lib = getattr(main, "torch", None)
    if lib is not None and hasattr(lib, "from_numpy"):
        return lib
    name = os.environ.get("PORTING_BACKEND", "shendu")
    return __import__(name)


class _IDXDataset:
    _loader = "mnist"

    def __init__(self, root=None, train=True, download=False, transform=None,
                 target_transform=None, limit=None):
        import shendu.datasets
        images, labels = getattr(shendu.datasets, self._loader)(
            "train" if train else "test", data_dir=os.environ.get("SHENDU_DATA"))
        if limit is not None:
            images, labels = images[:limit], labels[:limit]
        self.data, self.targets = images, labels
        self.transform, self.target_transform = transform, target_transform
        self.train = train

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        img, target = self.data[i], int(self.targets[i])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


class MNIST(_IDXDataset):
    """torchvision.datasets.MNIST over ``$SHENDU_DATA/mnist``."""
    _loader = "mnist"


class FashionMNIST(_IDXDataset):
    """torchvision.datasets.FashionMNIST over ``$SHENDU_DATA/fashion-mnist``."""
    _loader = "fashion_mnist"


# ---------------------------------------------------------------- transforms
class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x


class ToTensor:
    """uint8 (H, W) or (H, W, C) array -> float32 tensor (C, H, W) in [0, 1]."""

    def __call__(self, img):
        a = np.asarray(img, dtype=np.float32) / np.float32(255.0)
        a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
        return _lib().from_numpy(np.ascontiguousarray(a))


class Normalize:
    """(x - mean) / std per channel, on a (C, H, W) tensor."""

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, np.float32).reshape(-1, 1, 1)
        self.std = np.asarray(std, np.float32).reshape(-1, 1, 1)

    def __call__(self, t):
        a = (t.numpy() - self.mean) / self.std
        return _lib().from_numpy(np.ascontiguousarray(a.astype(np.float32)))


class Resize:
    """Bilinear resize of a uint8 (H, W) array to (size, size) (half-pixel centres)."""

    def __init__(self, size):
        self.size = (size, size) if isinstance(size, int) else tuple(size)

    def __call__(self, img):
        a = np.asarray(img, np.float32)
        h, w = a.shape[:2]
        oh, ow = self.size
        ys = np.clip((np.arange(oh) + 0.5) * h / oh - 0.5, 0, h - 1)
        xs = np.clip((np.arange(ow) + 0.5) * w / ow - 0.5, 0, w - 1)
        y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
        y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
        wy, wx = (ys - y0)[:, None], (xs - x0)[None, :]
        top = a[y0][:, x0] * (1 - wx) + a[y0][:, x1] * wx
        bot = a[y1][:, x0] * (1 - wx) + a[y1][:, x1] * wx
        return np.clip(np.rint(top * (1 - wy) + bot * wy), 0, 255).astype(np.uint8)


class CenterCrop:
    def __init__(self, size):
        self.size = size

    def __call__(self, img):
        h, w = img.shape[:2]
        t, l = (h - self.size) // 2, (w - self.size) // 2
        return img[t:t + self.size, l:l + self.size]


class Pad:
    """Zero padding of a uint8 (H, W) array by ``padding`` on every side."""

    def __init__(self, padding):
        self.padding = padding

    def __call__(self, img):
        return np.pad(img, self.padding)


class Grayscale:
    """(H, W) -> (H, W, C) with the grey level repeated (``num_output_channels=3``)."""

    def __init__(self, num_output_channels=1):
        self.c = num_output_channels

    def __call__(self, img):
        return img if self.c == 1 else np.repeat(np.asarray(img)[:, :, None], self.c, axis=2)


class Lambda:
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)


transforms = types.SimpleNamespace(Compose=Compose, ToTensor=ToTensor, Normalize=Normalize,
                                   Resize=Resize, CenterCrop=CenterCrop, Pad=Pad,
                                   Grayscale=Grayscale, Lambda=Lambda)
datasets = types.SimpleNamespace(MNIST=MNIST, FashionMNIST=FashionMNIST)


# ---------------------------------------------------------------- utils.save_image
def make_grid(tensor, nrow=8, padding=2, normalize=False):
    """(B, C, H, W) tensor -> (H', W', C) float array in [0, 1], ``nrow`` images a row."""
    a = tensor.detach().cpu().numpy() if hasattr(tensor, "detach") else np.asarray(tensor)
    a = np.asarray(a, np.float64)
    if a.ndim == 3:
        a = a[None]
    if normalize:
        a = (a - a.min()) / max(a.max() - a.min(), 1e-12)
    b, c, h, w = a.shape
    cols = min(nrow, b)
    rows = (b + cols - 1) // cols
    grid = np.zeros((rows * (h + padding) + padding, cols * (w + padding) + padding, c))
    for k in range(b):
        r, q = divmod(k, cols)
        y, x = padding + r * (h + padding), padding + q * (w + padding)
        grid[y:y + h, x:x + w] = a[k].transpose(1, 2, 0)
    return np.clip(grid, 0, 1)


def save_image(tensor, fp, nrow=8, padding=2, normalize=False, **_):
    """torchvision.utils.save_image: write the grid of images as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    g = make_grid(tensor, nrow=nrow, padding=padding, normalize=normalize)
    plt.imsave(fp, g[:, :, 0] if g.shape[2] == 1 else g, cmap="gray", vmin=0, vmax=1,
               format="png")


utils = types.SimpleNamespace(save_image=save_image, make_grid=make_grid)


# ---------------------------------------------------------------- a WikiText-like corpus
def write_wikitext(folder, words=20000, min_count=3):
    """Write a WikiText-2-like split of tiny-shakespeare into ``folder``: ``train.txt``
    with about ``words`` tokens, ``valid.txt`` and ``test.txt`` with ``words // 10`` each,
    taken from three separate stretches of the play text (train from the start, valid and
    test from 80% and 90% of the way). Each non-empty line of the text is one line of
    tokens; words seen fewer than ``min_count`` times in the whole text are ``<unk>``."""
    from shendu.datasets import tiny_shakespeare
    lines = [re.findall(r"[A-Za-z']+|[0-9]+|[^\sA-Za-z0-9]", ln)
             for ln in tiny_shakespeare(os.environ.get("SHENDU_DATA")).split("\n")]
    lines = [ln for ln in lines if ln]
    counts = {}
    for ln in lines:
        for w in ln:
            counts[w] = counts.get(w, 0) + 1
    lines = [" ".join(w if counts[w] >= min_count else "<unk>" for w in ln) for ln in lines]

    def take(start, n):
        out, total = [], 0
        for ln in lines[start:]:
            if total >= n:
                break
            out.append(" " + ln + " ")  # WikiText's lines start and end with a space
            total += len(ln.split())
        return "\n".join(out) + "\n"

    os.makedirs(folder, exist_ok=True)
    n = len(lines)
    for name, start, size in (("train", 0, words), ("valid", int(0.8 * n), words // 10),
                              ("test", int(0.9 * n), words // 10)):
        with open(os.path.join(folder, name + ".txt"), "w", encoding="utf8") as f:
            f.write(take(start, size))


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "wikitext":
    write_wikitext(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3
                   else int(os.environ.get("PORTING_LIMIT", "20000")))
