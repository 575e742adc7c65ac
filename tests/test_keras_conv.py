"""Keras convolution, pooling and reshaping layers (shendu.keras.layers): channels-last
semantics, TensorFlow's "same" padding, Keras kernel layouts, equivalence with the
PyTorch-style shendu.nn layers after mapping the weights, training and saving."""
import os

import numpy as np
import pytest

import shendu
from shendu import keras, nn
from shendu.keras import layers


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _nchw(x):
    return shendu.tensor(np.ascontiguousarray(np.moveaxis(x, -1, 1)))


def _nhwc(t):
    return np.moveaxis(t.detach().detach().numpy() if hasattr(t, "detach") else np.asarray(t), 1, -1)


# ------------------------------------------------------------------ Conv2D
@pytest.mark.parametrize("padding,dilation,groups", [("valid", 1, 1), ("same", 1, 1),
                                                      ("same", 2, 1), ("valid", 1, 3)])
def test_conv2d_matches_nn_conv2d_with_mapped_weights(padding, dilation, groups):
    x = _rand(2, 9, 8, 6)
    conv = layers.Conv2D(12, (3, 2), padding=padding, dilation_rate=dilation, groups=groups,
                         bias_initializer="random_normal")
    y = conv(x).detach().numpy()
    kernel, bias = conv.get_weights()
    assert kernel.shape == (3, 2, 6 // groups, 12) and bias.shape == (12,)  # Keras layout
    ref = nn.Conv2d(6, 12, (3, 2), padding=padding, dilation=dilation, groups=groups)
    ref.weight._data[...] = kernel.transpose(3, 2, 0, 1)
    ref.bias._data[...] = bias
    expected = _nhwc(ref(_nchw(x)))
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    assert conv.compute_output_shape((None, 9, 8, 6)) == (None,) + y.shape[1:]


def test_conv2d_same_with_strides_pads_like_tensorflow():
    # 8 pixels, kernel 3, stride 2: ceil(8 / 2) = 4 outputs, total padding 1, all after
    x = _rand(1, 8, 7, 1)
    conv = layers.Conv2D(1, 3, strides=2, padding="same", use_bias=False)
    y = conv(x).detach().numpy()
    assert y.shape == (1, 4, 4, 1)
    k = conv.kernel.detach().numpy()[:, :, 0, 0]
    # rows: total 1 -> (0, 1); cols (7 px): total (4-1)*2+3-7 = 2 -> (1, 1)
    xp = np.pad(x[0, :, :, 0], ((0, 1), (1, 1)))
    hand = np.array([[np.sum(xp[2 * i:2 * i + 3, 2 * j:2 * j + 3] * k) for j in range(4)]
                     for i in range(4)])
    np.testing.assert_allclose(y[0, :, :, 0], hand, rtol=1e-5, atol=1e-5)


def test_conv2d_channels_first_equals_channels_last_transposed():
    x = _rand(2, 7, 7, 3)
    last = layers.Conv2D(4, 3, strides=2, padding="same")
    first = layers.Conv2D(4, 3, strides=2, padding="same", data_format="channels_first")
    y_last = last(x).detach().numpy()
    first(np.moveaxis(x, -1, 1))
    first.set_weights(last.get_weights())
    y_first = first(np.moveaxis(x, -1, 1)).detach().numpy()
    np.testing.assert_allclose(np.moveaxis(y_first, 1, -1), y_last, rtol=1e-5, atol=1e-6)
    assert first.compute_output_shape((None, 3, 7, 7)) == (None, 4, 4, 4)


def test_conv2d_gradients_match_nn_conv2d():
    x = _rand(2, 6, 5, 3)
    conv = layers.Conv2D(4, 3, strides=2, padding="same", activation="tanh")
    xt = shendu.tensor(x, requires_grad=True)
    conv(xt).sum().backward()
    kernel, bias = conv.get_weights()
    ref = nn.Conv2d(3, 4, 3, stride=2)
    ref.weight._data[...] = kernel.transpose(3, 2, 0, 1)
    ref.bias._data[...] = bias
    xr = shendu.tensor(np.moveaxis(x, -1, 1).copy(), requires_grad=True)
    # TensorFlow's "same" for 6x5, kernel 3, stride 2: rows (0, 1), cols (1, 1)
    ref(nn.functional.pad(xr, (1, 1, 0, 1))).tanh().sum().backward()
    np.testing.assert_allclose(xt.grad.detach().numpy(),
                               np.moveaxis(xr.grad.detach().numpy(), 1, -1),
                               atol=1e-5)
    np.testing.assert_allclose(conv.kernel.grad.detach().numpy(),
                               ref.weight.grad.detach().numpy().transpose(2, 3, 1, 0), atol=1e-4)


def test_conv1d_causal_sees_only_the_past():
    x = _rand(2, 10, 3)
    conv = layers.Conv1D(5, 3, padding="causal", dilation_rate=2)
    y = conv(x).detach().numpy()
    assert y.shape == (2, 10, 5) and conv.kernel.shape == (3, 3, 5)
    x2 = x.copy()
    x2[:, 6:] += 1.0  # change the future from step 6 on
    y2 = conv(x2).detach().numpy()
    np.testing.assert_allclose(y2[:, :6], y[:, :6])
    assert not np.allclose(y2[:, 6:], y[:, 6:])
    kernel, bias = conv.get_weights()
    ref = nn.Conv1d(3, 5, 3, dilation=2)
    ref.weight._data[...] = kernel.transpose(2, 1, 0)
    ref.bias._data[...] = bias
    padded = np.pad(np.moveaxis(x, -1, 1), ((0, 0), (0, 0), (4, 0)))
    np.testing.assert_allclose(y, np.moveaxis(ref(shendu.tensor(padded)).detach().numpy(), 1, -1),
                               atol=1e-5)


@pytest.mark.parametrize("padding,torch_padding", [("same", 1), ("valid", 0)])
def test_conv2d_transpose_matches_nn_conv_transpose2d(padding, torch_padding):
    x = _rand(2, 5, 4, 3)
    deconv = layers.Conv2DTranspose(6, 4, strides=2, padding=padding,
                                    bias_initializer="random_normal")
    y = deconv(x).detach().numpy()
    kernel, bias = deconv.get_weights()
    assert kernel.shape == (4, 4, 6, 3)  # Keras: (kh, kw, filters, in_channels)
    expected_hw = (10, 8) if padding == "same" else (12, 10)
    assert y.shape == (2,) + expected_hw + (6,)
    ref = nn.ConvTranspose2d(3, 6, 4, stride=2, padding=torch_padding)
    ref.weight._data[...] = kernel.transpose(3, 2, 0, 1)
    ref.bias._data[...] = bias
    np.testing.assert_allclose(y, _nhwc(ref(_nchw(x))), rtol=1e-5, atol=1e-5)
    assert deconv.compute_output_shape((None, 5, 4, 3)) == (None,) + y.shape[1:]


def test_conv2d_transpose_stride_larger_than_kernel_and_same_stride1():
    x = _rand(1, 3, 3, 2)
    # valid, kernel 2 < stride 3: Keras's size is size * stride (gaps and tail are zeros)
    deconv = layers.Conv2DTranspose(1, 2, strides=3, use_bias=False)
    y = deconv(x).detach().numpy()
    assert y.shape == (1, 9, 9, 1)
    assert np.all(y[0, 2::3, :, 0] == 0) and np.all(y[0, :, 2::3, 0] == 0)
    # same, stride 1, odd kernel: a "same" convolution with the flipped kernel
    deconv = layers.Conv2DTranspose(2, 3, padding="same", use_bias=False)
    y = deconv(x).detach().numpy()
    conv = layers.Conv2D(2, 3, padding="same", use_bias=False)
    conv(x)
    conv.set_weights([deconv.kernel.detach().numpy()[::-1, ::-1].transpose(0, 1, 3, 2).copy()])
    np.testing.assert_allclose(y, conv(x).detach().numpy(), atol=1e-5)


# ------------------------------------------------------------------ pooling
def test_max_and_average_pooling_valid_match_nn():
    x = _rand(2, 7, 6, 3)
    y = layers.MaxPooling2D()(x).detach().numpy()
    assert y.shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(y, _nhwc(nn.MaxPool2d(2)(_nchw(x))))
    y = layers.AveragePooling2D(pool_size=3, strides=2)(x).detach().numpy()
    np.testing.assert_allclose(y, _nhwc(nn.AvgPool2d(3, 2)(_nchw(x))), rtol=1e-6)


def test_pooling_same_padding_ignores_the_padding():
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1) - 10.0  # all negative
    mx = layers.MaxPooling2D(2, padding="same")(x).detach().numpy()[0, :, :, 0]
    av = layers.AveragePooling2D(2, padding="same")(x).detach().numpy()[0, :, :, 0]
    g = x[0, :, :, 0]
    # windows: rows [0:2], [2:3]; cols [0:2], [2:3] (TensorFlow pads after)
    wins = [[g[0:2, 0:2], g[0:2, 2:3]], [g[2:3, 0:2], g[2:3, 2:3]]]
    np.testing.assert_array_equal(mx, [[w.max() for w in row] for row in wins])
    np.testing.assert_allclose(av, [[w.mean() for w in row] for row in wins])
    assert layers.MaxPooling2D(2, padding="same").compute_output_shape((None, 3, 3, 1)) == \
        (None, 2, 2, 1)


def test_global_pooling_and_channels_first():
    x = _rand(2, 4, 5, 3)
    np.testing.assert_allclose(layers.GlobalAveragePooling2D()(x).detach().numpy(), x.mean((1, 2)),
                               rtol=1e-6)
    np.testing.assert_array_equal(layers.GlobalMaxPooling2D()(x).detach().numpy(), x.max((1, 2)))
    xf = np.moveaxis(x, -1, 1)
    np.testing.assert_allclose(
        layers.GlobalAveragePooling2D(data_format="channels_first")(xf).detach().numpy(), x.mean((1, 2)),
        rtol=1e-6)
    assert layers.GlobalAveragePooling2D(keepdims=True)(x).shape == (2, 1, 1, 3)
    y = layers.MaxPooling2D(data_format="channels_first")(xf).detach().numpy()
    np.testing.assert_array_equal(np.moveaxis(y, 1, -1), layers.MaxPooling2D()(x).detach().numpy())


# ------------------------------------------------------------------ reshaping
def test_upsampling_zero_padding_cropping():
    x = _rand(2, 3, 4, 2)
    y = layers.UpSampling2D(size=(2, 3))(x).detach().numpy()
    np.testing.assert_array_equal(y, np.repeat(np.repeat(x, 2, axis=1), 3, axis=2))
    y = layers.UpSampling2D(interpolation="bilinear")(x).detach().numpy()

    def up(a, axis):  # half-pixel centres: 3/4 of the nearest input, 1/4 of the next
        n = a.shape[axis]
        prev = np.take(a, np.maximum(np.arange(n) - 1, 0), axis=axis)
        nxt = np.take(a, np.minimum(np.arange(n) + 1, n - 1), axis=axis)
        even, odd = 0.75 * a + 0.25 * prev, 0.75 * a + 0.25 * nxt
        return np.stack([even, odd], axis=axis + 1).reshape(
            a.shape[:axis] + (2 * n,) + a.shape[axis + 1:])
    np.testing.assert_allclose(y, up(up(x, 1), 2), atol=1e-6)
    assert np.array_equal(layers.ZeroPadding2D(1)(x).detach().numpy(),
                          np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))))
    assert np.array_equal(layers.ZeroPadding2D((1, 2))(x).detach().numpy(),
                          np.pad(x, ((0, 0), (1, 1), (2, 2), (0, 0))))
    assert np.array_equal(layers.ZeroPadding2D(((0, 1), (2, 3)))(x).detach().numpy(),
                          np.pad(x, ((0, 0), (0, 1), (2, 3), (0, 0))))
    assert np.array_equal(layers.Cropping2D(((1, 0), (1, 2)))(x).detach().numpy(), x[:, 1:, 1:2])
    assert layers.ZeroPadding2D(((0, 1), (2, 3))).compute_output_shape((None, 3, 4, 2)) == \
        (None, 4, 9, 2)
    with pytest.raises(ValueError, match="ZeroPadding2D: padding"):
        layers.ZeroPadding2D((1, 2, 3))


def test_batch_normalization_on_images_matches_batchnorm2d():
    x = _rand(4, 5, 5, 3) * 2 + 1
    bn = layers.BatchNormalization()
    y = bn(x, training=True).detach().numpy()
    ref = nn.BatchNorm2d(3, eps=1e-3, momentum=0.01)
    expected = _nhwc(ref(_nchw(x)))
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.detach().numpy(), ref.running_mean.detach().numpy(), rtol=1e-5)
    n = 4 * 5 * 5  # Keras averages the biased batch variance, PyTorch the unbiased one
    biased_ref = 0.99 + (ref.running_var.detach().numpy() - 0.99) * (n - 1) / n
    np.testing.assert_allclose(bn.moving_variance.detach().numpy(), biased_ref, rtol=1e-5)
    assert [w.shape for w in bn.get_weights()] == [(3,)] * 4


def test_spatial_dropout2d_drops_whole_channels():
    x = np.ones((8, 4, 4, 6), np.float32)
    layer = layers.SpatialDropout2D(0.5)
    assert np.array_equal(layer(x).detach().numpy(), x)  # inference: identity
    y = layer(x, training=True).detach().numpy()
    per_map = y.reshape(8, 16, 6)
    assert np.all(per_map.min(axis=1) == per_map.max(axis=1))  # constant over each map
    assert set(np.unique(y)) <= {0.0, 2.0} and 0 < (y == 0).mean() < 1


def test_errors_name_the_layer_and_the_shapes():
    conv = layers.Conv2D(4, 3)
    conv(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"Conv2D 'conv2d' expects inputs of rank 4 with 3 "
                                         r"channels on axis -1"):
        conv(np.zeros((1, 5, 5, 2), np.float32))
    with pytest.raises(ValueError, match="padding must be one of"):
        layers.Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="kernel_size must be an int or a tuple of 2 ints"):
        layers.Conv2D(4, (3, 3, 3))
    with pytest.raises(ValueError, match="data_format"):
        layers.MaxPooling2D(data_format="NHWC")


# ------------------------------------------------------------------ models
def _bars(n, seed=0):
    """8x8 images holding a horizontal (class 0) or vertical (class 1) bar, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 0.3, (n, 8, 8, 1)).astype(np.float32)
    pos = rng.integers(1, 7, n)
    for i in range(n):
        if y[i] == 0:
            x[i, pos[i], 1:7, 0] += 1.5
        else:
            x[i, 1:7, pos[i], 0] += 1.5
    return x, y


def test_conv_model_fits_a_tiny_task():
    x, y = _bars(256)
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(8, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(8, 3, padding="same", activation="relu"),
        layers.GlobalMaxPooling2D(),
        layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    xv, yv = _bars(128, seed=1)
    _, acc = model.evaluate(xv, yv, verbose=0)
    assert acc >= 0.9


def test_conv_model_save_load_round_trip(tmp_path):
    inputs = keras.Input(shape=(8, 8, 2))
    x = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Conv2DTranspose(3, 3, strides=2, padding="same")(x)
    x = layers.ZeroPadding2D(((1, 0), (0, 1)))(x)
    x = layers.AveragePooling2D(3, strides=2, padding="same")(x)
    x = layers.UpSampling2D()(x)
    x = layers.Cropping2D(1)(x)
    x = layers.SpatialDropout2D(0.2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(2)(x)
    model = keras.Model(inputs, outputs)
    data = _rand(4, 8, 8, 2)
    model.compile(optimizer="adam", loss="mse")
    model.fit(data, np.zeros((4, 2), np.float32), epochs=1, verbose=0)
    path = os.path.join(tmp_path, "conv.keras")
    model.save(path)
    again = keras.models.load_model(path)
    assert [type(l).__name__ for l in again.layers] == [type(l).__name__ for l in model.layers]
    assert again.layers[1].padding == "same" and again.layers[1].strides == (2, 2)
    np.testing.assert_array_equal(model.predict(data, verbose=0), again.predict(data, verbose=0))
