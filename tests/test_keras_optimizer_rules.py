"""keras.optimizers take Keras 3's steps, not PyTorch's, where the two rules differ.

The reference weights below were produced by Keras 3.15.1 itself (torch backend,
``keras.optimizers.X(...).apply_gradients`` three times on the same float32 weights and
gradients; the recipe is in the comment above ``KERAS_3_15_1``), so these tests pin
shendu.keras to Keras's numbers without needing Keras installed.
"""
import numpy as np
import pytest

import shendu
from shendu import optim
from shendu.keras import optimizers

W0 = np.array([[0.5, -1.0], [2.0, 1e-3]], np.float32)
GRADS = [np.array([[1e-4, -0.3], [2.0, 1e-6]], np.float32),
         np.array([[-2e-4, 0.1], [-1.0, 0.0]], np.float32),
         np.array([[3e-4, 0.2], [0.5, -1e-5]], np.float32)]

# Keras 3.15.1 (KERAS_BACKEND=torch), for each case below:
#     v = keras.Variable(W0); for g in GRADS: opt.apply_gradients([(g, v)])
# shendu matches these to the bit for most cases (float32 arithmetic in Keras's order).
KERAS_3_15_1 = {
    "rmsprop": [[0.49941202998161316, -0.9996974468231201],
                [1.997557520866394, 0.0010284589370712638]],
    "rmsprop_momentum_centered": [[0.4942837357521057, -0.9480394721031189],
                                  [1.9301999807357788, 0.0012305155396461487]],
    "adam": [[0.4990512728691101, -0.9986801147460938],
             [1.998393177986145, 0.0010431702248752117]],
    "adam_amsgrad": [[0.4905129075050354, -0.9868010878562927],
                     [1.9839324951171875, 0.0014318949542939663]],
    "adagrad": [[0.49999934434890747, -0.9999435544013977],
                [1.9992389678955078, 0.001000028569251299]],
    "adagrad_zero_start": [[0.4960251450538635, -0.9985074996948242],
                           [1.9922900199890137, 0.0012844456359744072]],
    "adamw": [[0.4904535412788391, -0.9866820573806763],
              [1.9836933612823486, 0.001431837910786271]],
    "nadam": [[0.4989880621433258, -0.9997246265411377],
              [1.9990664720535278, 0.001008364837616682]],
    "adadelta": [[0.4998045563697815, -1.0003825426101685],
                 [1.9990026950836182, 0.0010089997667819262]],
    "sgd_nesterov": [[0.49996280670166016, -0.961929976940155],
                     [1.488200068473816, 0.001001556171104312]],
}

CASES = {
    "rmsprop": lambda: optimizers.RMSprop(),
    "rmsprop_momentum_centered": lambda: optimizers.RMSprop(learning_rate=0.01, momentum=0.9,
                                                            centered=True),
    "adam": lambda: optimizers.Adam(),
    "adam_amsgrad": lambda: optimizers.Adam(learning_rate=0.01, amsgrad=True),
    "adagrad": lambda: optimizers.Adagrad(),
    "adagrad_zero_start": lambda: optimizers.Adagrad(learning_rate=0.01,
                                                     initial_accumulator_value=0.0),
    "adamw": lambda: optimizers.AdamW(learning_rate=0.01),
    "nadam": lambda: optimizers.Nadam(),
    "adadelta": lambda: optimizers.Adadelta(learning_rate=1.0),
    "sgd_nesterov": lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
}


def _run(opt, w0=W0, grads=GRADS):
    w = shendu.tensor(w0.copy(), requires_grad=True)
    for g in grads:
        opt.apply_gradients([(shendu.tensor(g), w)])
    return w.detach().numpy()


@pytest.mark.parametrize("name", sorted(CASES))
def test_steps_match_keras_3(name):
    # float32 arithmetic in a different order: a few ulp of the weights
    np.testing.assert_allclose(_run(CASES[name]()), np.array(KERAS_3_15_1[name]),
                               rtol=2e-6, atol=1e-8)


@pytest.mark.parametrize("name, torch_rule", [
    ("rmsprop", lambda p: optim.RMSprop(p, lr=1e-3, alpha=0.9, eps=1e-7)),
    ("adagrad_zero_start", lambda p: optim.Adagrad(p, lr=1e-2, eps=1e-7)),
    ("adam", lambda p: optim.Adam(p, lr=1e-3, eps=1e-7)),
])
def test_pytorch_rule_would_not_match(name, torch_rule):
    """The test above can fail: PyTorch's rule (shendu.optim) gives other weights here."""
    b = shendu.tensor(W0.copy(), requires_grad=True)
    opt = torch_rule([b])
    for g in GRADS:
        b.grad = shendu.tensor(g)
        opt.step()
    assert not np.allclose(b.detach().numpy(), np.array(KERAS_3_15_1[name]), rtol=2e-6,
                           atol=1e-8)


def test_rmsprop_small_gradient_step_is_keras_sized():
    # Keras: lr g / sqrt(v + eps) with v = (1 - rho) g^2 = 1e-9
    w = _run(optimizers.RMSprop(), np.array([1.0], np.float32), [np.array([1e-4], np.float32)])
    np.testing.assert_allclose(1.0 - w[0], 1e-3 * 1e-4 / np.sqrt(1e-9 + 1e-7), rtol=1e-4)


@pytest.mark.parametrize("name", ["rmsprop_momentum_centered", "adam_amsgrad", "adagrad"])
def test_state_round_trips_through_state_dict(name):
    a, b = CASES[name](), CASES[name]()
    wa = shendu.tensor(W0.copy(), requires_grad=True)
    wb = shendu.tensor(W0.copy(), requires_grad=True)
    a.apply_gradients([(shendu.tensor(GRADS[0]), wa)])
    b.build([wb])
    wb._data[...] = wa._data
    b.load_state_dict(a.state_dict())
    for g in GRADS[1:]:
        a.apply_gradients([(shendu.tensor(g), wa)])
        b.apply_gradients([(shendu.tensor(g), wb)])
    np.testing.assert_array_equal(wa.detach().numpy(), wb.detach().numpy())


def test_float64_gradients_keep_float64_weights():
    w = shendu.tensor(W0.astype(np.float64), requires_grad=True)
    optimizers.RMSprop().apply_gradients([(shendu.tensor(GRADS[0].astype(np.float64)), w)])
    assert w.dtype == shendu.float64
