"""The course's image kernels and its 7x7 convolution worked example, computed with F.conv2d.

Lesson 003, "卷積特徵提取" to "池化層": a convolution slides a small filter (濾鏡, feature
detector) over the image and writes one weighted sum per position into the feature map
(特徵圖). Two parts:

1. The worked example. The course's 7x7 binary image and 3x3 filter
   ``[[0, 0, 1], [1, 0, 0], [0, 1, 1]]`` give a 5x5 feature map (stride 1, no padding),
   a 7x7 one with padding 1, and here also a 3x3 one with stride 2 (the course's
   "Stride" slide only shows the filter moving one step). ReLU and the course's 2x2 max
   pooling then give its pooled map ``[[1, 1, 0], [4, 2, 1], [0, 2, 1]]``. F.conv2d
   computes cross-correlation (no kernel flip), as the course does. The script asserts
   every number against the course's slides, with two known slip-ups on the slides:
   the 5x5 map's centre (row 2, column 2) is printed as 1 but the window there holds a
   single 1 where the filter has 0, so the sum is 0 (the same cell of the padded map,
   row 3 column 3, has the same slip); and the padded map's last row is printed one
   column to the right (``0 0 1 1 1 0 0`` for ``0 1 1 1 0 0 0``). The output size
   follows ``(n + 2p - k) // s + 1``: 5, 7 and 3.
2. The course's kernel table ("卷積矩陣", from Wikipedia's "Kernel (image processing)"):
   identity, three edge detectors, sharpen, box blur, Gaussian blur 3x3 and 5x5, and
   unsharp masking 5x5, each applied with ``F.conv2d(image, kernel, padding="same")`` to
   an MNIST digit (the first test image, a 7; 28x28, pixels in [0, 1]) and drawn next to
   its kernel in one figure. Without the MNIST files (``$SHENDU_DATA/mnist``, else
   ``../shared/data`` beside the repository) it falls back to scikit-learn's first 8x8
   digit, upscaled to 32x32 (bilinear ``F.interpolate``) and says so.

Run: python examples/image_kernels.py [--out examples_output] [--data-dir DIR]

Measured: every number of the worked example (25 + 9 + 49 + 9) as stated above: the
pooled map equals the slide exactly, the 5x5 map differs from it in 1 cell and the padded
map in 3, the slips explained above. The kernel figure (image_kernels.png) shows the
identity unchanged, the edge detectors lighting up the stroke's outline (the Laplacian
kernels negative along the stroke's middle), sharpen crisping it, the blurs softening it,
and unsharp masking (image + (image - Gaussian 5x5)) with a dark halo. The printed sums
check the kernels: identity, sharpen, the blurs and unsharp masking sum to 1 and keep the
total ink (72.37; the 5x5 ones 72.22 and 72.52, where the digit's blur reaches the zero
padding), the edge detectors sum to 0 and so do their outputs. About 3 s.
"""
import argparse
import os
from pathlib import Path

import numpy as np

import shendu
import shendu.nn.functional as F

# ---------------------------------------------------------------- the worked example
# The course's input image (輸入圖片) and filter (濾鏡), slide "卷積特徵提取".
COURSE_IMAGE = np.array([
    [0, 0, 0, 0, 0, 0, 0],
    [0, 1, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 1, 0, 0, 0],
    [0, 1, 0, 0, 0, 1, 0],
    [0, 0, 1, 1, 1, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
])
COURSE_FILTER = np.array([
    [0, 0, 1],
    [1, 0, 0],
    [0, 1, 1],
])
# The feature maps printed on the slides, copied as they are (slips included).
COURSE_FEATURE_MAP = np.array([
    [0, 1, 0, 0, 0],
    [0, 1, 1, 1, 0],
    [1, 0, 1, 2, 1],
    [1, 4, 2, 1, 0],
    [0, 0, 1, 2, 1],
])
COURSE_PADDED_MAP = np.array([
    [1, 1, 0, 0, 1, 1, 0],
    [0, 0, 1, 0, 0, 0, 1],
    [1, 0, 1, 1, 1, 0, 0],
    [1, 1, 0, 1, 2, 1, 0],
    [0, 1, 4, 2, 1, 0, 1],
    [1, 0, 0, 1, 2, 1, 0],
    [0, 0, 1, 1, 1, 0, 0],
])
COURSE_POOLED_MAP = np.array([  # slide "池化過程": 2x2 max pooling of the 5x5 map
    [1, 1, 0],
    [4, 2, 1],
    [0, 2, 1],
])
# Where the slides and the arithmetic disagree: (row, column) -> (slide, true value).
SLIDE_SLIPS = {
    "feature map": {(2, 2): (1, 0)},
    "padding 1": {(3, 3): (1, 0), (6, 1): (0, 1), (6, 4): (1, 0)},
}


def as_batch(a):
    """(H, W) array -> (1, 1, H, W) float32 tensor: one image with one channel."""
    return shendu.tensor(np.asarray(a, dtype=np.float32)[None, None])


def conv(image, kernel, **kwargs):
    """F.conv2d of one (H, W) image with one (kh, kw) kernel, back as an (H', W') array."""
    return F.conv2d(as_batch(image), as_batch(kernel), **kwargs).numpy()[0, 0]


def output_size(n, k, stride=1, padding=0):
    return (n + 2 * padding - k) // stride + 1


def check_against_slides(name, computed, slide):
    """Assert that ``computed`` equals the slide's numbers except the known slips; returns
    the list of (row, column, slide value, computed value) that differ."""
    expected = slide.copy()
    for (i, j), (on_slide, true) in SLIDE_SLIPS.get(name, {}).items():
        assert slide[i, j] == on_slide
        expected[i, j] = true
    np.testing.assert_array_equal(computed, expected, err_msg=name)
    return [(int(i), int(j), int(slide[i, j]), int(computed[i, j]))
            for i, j in zip(*np.nonzero(computed != slide))]


def show(title, a):
    print(title)
    for row in np.asarray(a).astype(int):
        print("   " + " ".join(f"{v:2d}" for v in row))


def worked_example():
    """The course's 7x7 / 3x3 example: feature maps with stride 1, stride 2 and padding 1,
    then ReLU and 2x2 max pooling. Returns the maps and the slide slips found."""
    show("Input image (7x7):", COURSE_IMAGE)
    show("Filter (3x3):", COURSE_FILTER)
    n, k = COURSE_IMAGE.shape[0], COURSE_FILTER.shape[0]

    feature_map = conv(COURSE_IMAGE, COURSE_FILTER)
    strided = conv(COURSE_IMAGE, COURSE_FILTER, stride=2)
    padded = conv(COURSE_IMAGE, COURSE_FILTER, padding=1)
    assert feature_map.shape == (output_size(n, k),) * 2 == (5, 5)
    assert strided.shape == (output_size(n, k, stride=2),) * 2 == (3, 3)
    assert padded.shape == (output_size(n, k, padding=1),) * 2 == (7, 7)
    # stride 2 keeps every second position of the stride-1 map; padding adds a border ring
    np.testing.assert_array_equal(strided, feature_map[::2, ::2])
    np.testing.assert_array_equal(padded[1:-1, 1:-1], feature_map)
    # one position by hand: the top-left window times the filter, summed
    assert feature_map[0, 1] == np.sum(COURSE_IMAGE[0:3, 1:4] * COURSE_FILTER) == 1

    slips = {"feature map": check_against_slides("feature map", feature_map,
                                                 COURSE_FEATURE_MAP),
             "padding 1": check_against_slides("padding 1", padded, COURSE_PADDED_MAP)}
    rectified = F.relu(as_batch(feature_map))
    pooled = F.max_pool2d(rectified, 2, ceil_mode=True).numpy()[0, 0]  # 5 -> 3: keep the edge
    np.testing.assert_array_equal(pooled, COURSE_POOLED_MAP)

    show("Feature map, stride 1, no padding (5x5) = (7 - 3) // 1 + 1:", feature_map)
    show("Stride 2 (3x3) = (7 - 3) // 2 + 1, every second position of the map above:", strided)
    show("Padding 1 (7x7) = (7 + 2 - 3) // 1 + 1, the same size as the input:", padded)
    show("ReLU, then 2x2 max pooling with ceil_mode (3x3), as on the slide 池化過程:", pooled)
    for name, diffs in slips.items():
        for i, j, on_slide, true in diffs:
            print(f"  the slide's {name} has {on_slide} at row {i}, column {j}; "
                  f"the sum there is {true}")
    return dict(feature_map=feature_map, stride_2=strided, padding_1=padded, pooled=pooled,
                slips=slips)


# ---------------------------------------------------------------- the kernel table
def _gaussian_5x5():
    row = np.array([1, 4, 6, 4, 1])
    return np.outer(row, row)


KERNELS = {  # the course's table "卷積矩陣" (Wikipedia, "Kernel (image processing)")
    "Identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "Edge detection 1": np.array([[1, 0, -1], [0, 0, 0], [-1, 0, 1]]),
    "Edge detection 2": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "Edge detection 3": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "Sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "Box blur": np.ones((3, 3)) / 9,
    "Gaussian blur 3x3": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
    "Gaussian blur 5x5": _gaussian_5x5() / 256,
    # image + (image - Gaussian 5x5): amount 1, threshold 0
    "Unsharp masking 5x5": -(_gaussian_5x5() - np.pad([[512]], 2)) / 256,
}
KERNEL_LABELS = {"Box blur": "1/9", "Gaussian blur 3x3": "1/16", "Gaussian blur 5x5": "1/256",
                 "Unsharp masking 5x5": "-1/256"}


def default_data_dir():
    """``$SHENDU_DATA`` when set, else the shared data folder beside the repository."""
    if os.environ.get("SHENDU_DATA"):
        return Path(os.environ["SHENDU_DATA"])
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def load_digit(data_dir=None):
    """One digit image in [0, 1]: MNIST's first test image when the files are there, else
    scikit-learn's first 8x8 digit upscaled to 32x32. Returns (image, description)."""
    from shendu.datasets import mnist
    try:
        images, labels = mnist("test", data_dir=data_dir or default_data_dir(), normalize=True)
        return images[0], f"MNIST test image 0 (a {labels[0]}), 28x28"
    except FileNotFoundError as err:
        print(f"MNIST not found ({str(err).splitlines()[0]}); using scikit-learn's digits")
    from shendu.datasets import digits
    data = digits()
    small = as_batch(data.images[0] / 16.0)
    big = F.interpolate(small, size=(32, 32), mode="bilinear", align_corners=False)
    return big.numpy()[0, 0], (f"scikit-learn digit 0 (a {data.target[0]}), 8x8 upscaled "
                               f"to 32x32 (MNIST files not found)")


def apply_kernels(image):
    """Each kernel of the table applied to the image with "same" padding."""
    return {name: conv(image, k, padding="same") for name, k in KERNELS.items()}


def _draw_kernel(ax, name, kernel):
    label = KERNEL_LABELS.get(name)
    scale = {"1/9": 9, "1/16": 16, "1/256": 256, "-1/256": -256}.get(label, 1)
    shown = np.rint(kernel * scale).astype(int)
    ax.imshow(shown, cmap="coolwarm", vmin=-np.abs(shown).max(), vmax=np.abs(shown).max())
    size = 11 if kernel.shape[0] == 3 else 7
    for (i, j), v in np.ndenumerate(shown):
        ax.text(j, i, str(v), ha="center", va="center", fontsize=size)
    ax.set_title((f"{label} x" if label else "kernel"), fontsize=9)


def plot(image, outputs, source, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 6, figsize=(13, 7.2),
                             gridspec_kw=dict(width_ratios=[0.8, 1] * 3))
    for n, (name, result) in enumerate(outputs.items()):
        ax_k, ax_r = axes[n // 3, 2 * (n % 3)], axes[n // 3, 2 * (n % 3) + 1]
        _draw_kernel(ax_k, name, KERNELS[name])
        ax_r.imshow(result, cmap="gray")  # each result on its own min..max
        ax_r.set_title(f"{name}\n[{result.min():.2f}, {result.max():.2f}]", fontsize=9)
        for ax in (ax_k, ax_r):
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"The course's kernels applied with F.conv2d(image, kernel, padding='same') "
                 f"to {source}\n(each result drawn from its own minimum (black) to its "
                 f"maximum (white); the range under each name)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding mnist/ (default: $SHENDU_DATA, else "
                             "../shared/data beside the repository)")
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="accepted for uniformity; the script is fast anyway")
    args = parser.parse_args(argv)

    print("== The course's worked example ==")
    example = worked_example()

    print("\n== The course's kernel table ==")
    image, source = load_digit(args.data_dir)
    print(f"image: {source}, ink (sum of pixels) {image.sum():.1f}")
    outputs = apply_kernels(image)
    print(f"{'kernel':<22}{'size':>6}{'kernel sum':>12}{'output range':>20}{'output sum':>12}")
    for name, result in outputs.items():
        k = KERNELS[name]
        print(f"{name:<22}{k.shape[0]:>4}x{k.shape[1]}{k.sum():>12.2f}"
              f"{f'[{result.min():.2f}, {result.max():.2f}]':>20}{result.sum():>12.2f}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "image_kernels.png"
    plot(image, outputs, source, png)
    print(f"Saved {png}")
    return dict(example, image=image, source=source, outputs=outputs, png=png)


if __name__ == "__main__":
    main()
