"""shendu.data.augment: exact results on tiny batches (with scripted random draws),
agreement with a per-sample reference loop, seeding, layouts, Tensors, errors, and a
proof that no Python loop runs per sample (traced line counts do not grow with N)."""
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shendu
from shendu.data import augment as A


class ScriptedGenerator(np.random.Generator):
    """A Generator whose integers()/random() return queued arrays, counting the calls."""

    def __init__(self, *draws):
        super().__init__(np.random.PCG64(0))
        self.draws = list(draws)
        self.calls = 0

    def integers(self, low, high=None, size=None, **kw):
        self.calls += 1
        out = np.asarray(self.draws.pop(0))
        assert out.shape == (size,) and (out < high).all() and (out >= low).all()
        return out

    def random(self, size=None, **kw):
        self.calls += 1
        out = np.asarray(self.draws.pop(0), float)
        assert out.shape == (size,)
        return out


class CountingGenerator(np.random.Generator):
    def __init__(self, seed):
        super().__init__(np.random.PCG64(seed))
        self.calls = 0

    def integers(self, *a, **k):
        self.calls += 1
        return super().integers(*a, **k)

    def random(self, *a, **k):
        self.calls += 1
        return super().random(*a, **k)


def reference_crop(x, size, padding, rows, cols, mode="constant", fill=0):
    """Per-sample loop over (N, ..., H, W): the slow obvious version."""
    top, bottom, left, right = padding
    pad = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    kw = {"constant_values": fill} if mode == "constant" else {}
    xp = np.pad(x, pad, mode=mode, **kw)
    h, w = size
    return np.stack([xp[i, ..., r:r + h, c:c + w] for i, (r, c) in enumerate(zip(rows, cols))])


# ------------------------------------------------------------------------------ crops
def test_random_crop_exact_tiny():
    x = np.arange(2 * 1 * 4 * 4).reshape(2, 1, 4, 4)
    crop = A.RandomCrop(2, padding=1, generator=ScriptedGenerator([0, 2], [1, 3]))
    out = crop(x)
    assert out.shape == (2, 1, 2, 2) and out.dtype == x.dtype
    assert out[0, 0].tolist() == [[0, 0], [0, 1]]
    assert out[1, 0].tolist() == [[22, 23], [26, 27]]


def test_random_crop_without_padding_and_fill():
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3)  # (N, H, W)
    out = A.RandomCrop((2, 3), generator=ScriptedGenerator([1], [0]))(x)
    assert out.tolist() == [[[3, 4, 5], [6, 7, 8]]]
    out = A.RandomCrop(3, padding=(1, 0), fill=-1, generator=ScriptedGenerator([0], [2]))(x)
    # padding (left/right=1, top/bottom=0): the crop starting at column 2 ends in the fill
    assert out.tolist() == [[[1, 2, -1], [4, 5, -1], [7, 8, -1]]]


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("shape", [(5, 3, 7, 6), (4, 9, 8), (3, 2, 2, 5, 5)])
def test_random_crop_matches_per_sample_loop(mode, shape):
    x = np.random.default_rng(1).integers(0, 255, shape).astype(np.uint8)
    crop = A.RandomCrop((4, 3), padding=(1, 2, 3, 0), padding_mode=mode, fill=7,
                        generator=5)
    out = crop(x)
    rng = np.random.default_rng(5)
    padding = (2, 0, 1, 3)  # (top, bottom, left, right) from (left, top, right, bottom)
    h_pad, w_pad = shape[-2] + 2, shape[-1] + 4
    rows = rng.integers(0, h_pad - 4 + 1, size=shape[0])
    cols = rng.integers(0, w_pad - 3 + 1, size=shape[0])
    expected = reference_crop(x, (4, 3), padding, rows, cols, mode=mode, fill=7)
    np.testing.assert_array_equal(out, expected)
    assert out.flags.c_contiguous and out.dtype == np.uint8


@settings(deadline=None, max_examples=30)
@given(n=st.integers(1, 6), c=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       pad=st.integers(0, 3), seed=st.integers(0, 2**16))
def test_random_crop_property(n, c, h, w, pad, seed):
    x = np.random.default_rng(seed).standard_normal((n, c, h, w)).astype(np.float32)
    size = (max(1, h + pad - 1), max(1, w))
    out = A.RandomCrop(size, padding=pad, generator=seed)(x)
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, h + 2 * pad - size[0] + 1, size=n)
    cols = rng.integers(0, w + 2 * pad - size[1] + 1, size=n)
    np.testing.assert_array_equal(out, reference_crop(x, size, (pad,) * 4, rows, cols))


def test_channels_last_layout():
    x = np.random.default_rng(0).integers(0, 255, (4, 6, 5, 3)).astype(np.uint8)
    out = A.RandomCrop(4, padding=2, data_format="channels_last", generator=3)(x)
    ref = A.RandomCrop(4, padding=2, generator=3)(x.transpose(0, 3, 1, 2))
    assert out.shape == (4, 4, 4, 3) and out.flags.c_contiguous
    np.testing.assert_array_equal(out, ref.transpose(0, 2, 3, 1))
    flip = A.RandomHorizontalFlip(p=1.0, data_format="channels_last")(x)
    np.testing.assert_array_equal(flip, x[:, :, ::-1, :])
    with pytest.raises(ValueError, match=r"expects a batch of images \(N, H, W, C\)"):
        A.RandomCrop(2, data_format="channels_last")(x[0])


def test_random_shift_exact_and_size_kept():
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)
    # padded offsets (0, 0): the picture moves one pixel down and one right
    out = A.RandomShift(1, generator=ScriptedGenerator([0], [0]))(x)
    assert out[0, 0].tolist() == [[0, 0, 0], [0, 1, 2], [0, 4, 5]]
    # offsets (1, 2): no vertical move, one pixel left
    out = A.RandomShift(1, generator=ScriptedGenerator([1], [2]))(x)
    assert out[0, 0].tolist() == [[2, 3, 0], [5, 6, 0], [8, 9, 0]]
    # (max_vertical, max_horizontal) = (0, 2): rows never move
    x = np.random.default_rng(0).random((50, 2, 4, 6))
    out = A.RandomShift((0, 2), generator=0)(x)
    assert out.shape == x.shape
    assert repr(A.RandomShift((0, 2))).startswith("RandomShift(max_shift=(0, 2)")
    # every output row is a row of the input moved sideways by at most 2
    rows_ok = [np.any([np.allclose(np.roll(np.pad(x[i], ((0, 0), (0, 0), (2, 2))), s,
                                           axis=-1)[..., 2:8], out[i]) for s in range(-2, 3)])
               for i in range(50)]
    assert all(rows_ok)


# ------------------------------------------------------------------------------ flips
def test_horizontal_and_vertical_flip_exact():
    x = np.arange(2 * 2 * 3).reshape(2, 1, 2, 3)
    out = A.RandomHorizontalFlip(generator=ScriptedGenerator([0.2, 0.7]))(x)
    assert out[0, 0].tolist() == [[2, 1, 0], [5, 4, 3]]   # 0.2 < 0.5: flipped
    assert out[1, 0].tolist() == x[1, 0].tolist()          # 0.7: kept
    out = A.RandomVerticalFlip(p=0.8, generator=ScriptedGenerator([0.9, 0.7]))(x)
    assert out[0].tolist() == x[0].tolist()
    assert out[1, 0].tolist() == [[9, 10, 11], [6, 7, 8]]
    assert not np.shares_memory(out, x)


def test_flip_probability_edges_and_rate():
    x = np.random.default_rng(0).random((2000, 1, 2, 2))
    np.testing.assert_array_equal(A.RandomHorizontalFlip(p=0.0)(x), x)
    np.testing.assert_array_equal(A.RandomHorizontalFlip(p=1.0)(x), x[..., ::-1])
    out = A.RandomHorizontalFlip(p=0.3, generator=0)(x)
    flipped = ~np.all(out == x, axis=(1, 2, 3))
    assert 0.25 < flipped.mean() < 0.35
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\], got 1.5"):
        A.RandomHorizontalFlip(p=1.5)


# ------------------------------------------------------------------------ seeding
def test_global_seed_and_own_generator_repeat():
    x = np.random.default_rng(0).random((16, 3, 8, 8)).astype(np.float32)
    aug = A.Compose([A.RandomCrop(8, padding=2), A.RandomHorizontalFlip()])
    shendu.manual_seed(123)
    a = aug(x)
    b = aug(x)
    shendu.manual_seed(123)
    np.testing.assert_array_equal(aug(x), a)
    np.testing.assert_array_equal(aug(x), b)
    assert not np.array_equal(a, b)  # successive batches get new draws
    own1, own2 = A.RandomCrop(6, padding=1, generator=7), A.RandomCrop(6, padding=1, generator=7)
    np.testing.assert_array_equal(own1(x), own2(x))
    g = np.random.default_rng(9)
    assert A.RandomShift(2, generator=g).generator is g
    with pytest.raises(TypeError, match="generator must be None, an int seed"):
        A.RandomCrop(2, generator="seed")


def test_one_draw_per_batch_not_per_sample():
    for n in (1, 500):
        x = np.zeros((n, 1, 6, 6), np.float32)
        g = CountingGenerator(0)
        A.RandomCrop(4, padding=1, generator=g)(x)
        A.RandomShift(2, generator=g)(x)
        A.RandomHorizontalFlip(generator=g)(x)
        A.RandomVerticalFlip(generator=g)(x)
        assert g.calls == 6  # 2 for each crop/shift, 1 for each flip, whatever n is


def _lines_run(fn, x):
    """Lines of shendu/data/augment.py executed by fn(x) (a per-sample loop adds ~N)."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if frame.f_code.co_filename == A.__file__:
            if event == "line":
                count += 1
            return tracer
        return None

    sys.settrace(tracer)
    try:
        fn(x)
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize("make", [lambda: A.RandomCrop(5, padding=2, generator=0),
                                  lambda: A.RandomShift(1, generator=0),
                                  lambda: A.RandomHorizontalFlip(p=0.5, generator=0),
                                  lambda: A.RandomVerticalFlip(p=0.5, generator=0),
                                  lambda: A.ToFloat(),
                                  lambda: A.Normalize(0.5, 0.25)])
def test_no_python_loop_over_samples(make):
    small = np.random.default_rng(0).random((3, 2, 6, 6)).astype(np.float32)
    big = np.random.default_rng(0).random((400, 2, 6, 6)).astype(np.float32)
    assert _lines_run(make(), small) == _lines_run(make(), big) > 0


# ------------------------------------------------------------------- value transforms
def test_to_float_and_normalize_exact():
    x = np.array([[[[0, 255]], [[51, 102]]]], np.uint8)  # (1, 2, 1, 2)
    f = A.ToFloat()(x)
    assert f.dtype == np.float32
    np.testing.assert_allclose(f.ravel(), [0, 1, 0.2, 0.4], rtol=1e-6)
    assert A.ToFloat(dtype="float64")(x).dtype == np.float64
    assert A.ToFloat(scale=False)(x).ravel().tolist() == [0, 255, 51, 102]
    np.testing.assert_array_equal(A.ToFloat()(f), f)  # floats are not scaled again
    n = A.Normalize(mean=(0.0, 0.2), std=(1.0, 0.1))(f)
    assert n.dtype == np.float32
    np.testing.assert_allclose(n.ravel(), [0, 1, 0, 2], atol=1e-6)
    last = A.Normalize(mean=(0.0, 0.2), std=(1.0, 0.1), data_format="channels_last")(
        f.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(last.transpose(0, 3, 1, 2), n, atol=1e-7)
    assert A.Normalize(0.5, 0.5)(np.ones((2, 3, 1, 1), np.float64)).dtype == np.float64


def test_normalize_errors():
    with pytest.raises(TypeError, match=r"Normalize expects float images, got dtype uint8; "
                                        r"convert pixels first with ToFloat\(\)"):
        A.Normalize(0.5, 0.5)(np.zeros((1, 1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match=r"mean has 3 values but the batch of shape "
                                         r"\(2, 1, 4, 4\) has 1 channels on axis 1"):
        A.Normalize((0.1, 0.2, 0.3), (1, 1, 1))(np.zeros((2, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match="std must not be 0"):
        A.Normalize(0.0, (1.0, 0.0))
    with pytest.raises(ValueError, match="ToFloat: dtype must be a floating dtype"):
        A.ToFloat(dtype="int32")


# --------------------------------------------------------------------------- Tensors
def test_tensors_in_tensors_out():
    x = shendu.tensor(np.random.default_rng(0).random((4, 3, 5, 5)).astype(np.float32))
    for t in (A.RandomCrop(3, padding=1, generator=0), A.RandomShift(1, generator=0),
              A.RandomHorizontalFlip(generator=0), A.ToFloat()):
        out = t(x)
        assert isinstance(out, shendu.Tensor) and out.dtype == np.float32
        assert not out.requires_grad
    np.testing.assert_array_equal(A.RandomCrop(3, padding=1, generator=4)(x)._data,
                                  A.RandomCrop(3, padding=1, generator=4)(x._data))
    xg = shendu.tensor(np.ones((2, 3, 2, 2), np.float32), requires_grad=True)
    y = A.Normalize((0.0, 0.5, 1.0), (1.0, 2.0, 4.0))(xg)
    assert isinstance(y, shendu.Tensor)
    y.sum().backward()
    np.testing.assert_allclose(xg.grad._data[0, :, 0, 0], [1.0, 0.5, 0.25])


def test_compose_is_shared_with_transforms_and_pipeline_shapes():
    from shendu.data.transforms import Compose
    assert A.Compose is Compose
    batch = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3)).astype(np.uint8)
    pipe = A.Compose([A.RandomCrop(28, padding=2, data_format="channels_last", generator=0),
                      A.RandomHorizontalFlip(data_format="channels_last", generator=1),
                      A.ToFloat(),
                      A.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26),
                                  data_format="channels_last")])
    out = pipe(batch)
    assert out.shape == (8, 28, 28, 3) and out.dtype == np.float32
    assert abs(float(out.mean())) < 0.2


# ----------------------------------------------------------------------------- errors
def test_errors_name_the_transform_and_the_shapes():
    with pytest.raises(ValueError, match=r"RandomCrop expects a batch of images \(N, C, H, W\) "
                                         r"or \(N, H, W\), got shape \(5, 5\); for one image "
                                         r"pass image\[None\]"):
        A.RandomCrop(2)(np.zeros((5, 5)))
    with pytest.raises(ValueError, match=r"RandomCrop: crop size \(6, 6\) is larger than the "
                                         r"padded images \(5, 5\)"):
        A.RandomCrop(6)(np.zeros((1, 1, 5, 5)))
    with pytest.raises(ValueError, match="padding must be a non-negative int"):
        A.RandomCrop(2, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="size must be a non-negative int or a pair"):
        A.RandomCrop(2.5)
    with pytest.raises(ValueError, match="padding_mode must be"):
        A.RandomCrop(2, padding_mode="wrap")
    with pytest.raises(ValueError, match="data_format must be 'channels_first' or "
                                         "'channels_last', got 'NHWC'"):
        A.RandomHorizontalFlip(data_format="NHWC")
    with pytest.raises(ValueError, match="RandomShift: max_shift must be"):
        A.RandomShift(-1)
    assert repr(A.RandomCrop(32, padding=4)) == (
        "RandomCrop(size=(32, 32), padding=(4, 4, 4, 4), fill=0, padding_mode='constant')")
