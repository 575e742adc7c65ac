"""One layer's forward pass a = sigmoid(W a0 + b), in NumPy and in shendu (lesson 000 §2.4).

The course computes one layer of a neural network by hand: multiply by the weights,
add the bias, squash with the sigmoid. The same lines run in shendu with ``np``
replaced by ``shendu``; shendu also gives the gradient of every number involved.

Run: python examples/forward_numpy.py
"""
import numpy as np

import shendu

# --- the course's NumPy code (000 §2.4) -------------------------------------------
a = np.array([0.1, 0.2, 0.3])
w = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]])
b = np.array([0, 0, -1])
print("NumPy   W@a      =", w @ a)
a2 = w @ a + b
print("NumPy   W@a+b    =", a2)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


print("NumPy   sigmoid  =", sigmoid(a2))

# --- the same with shendu ------------------------------------------------------------
sa = shendu.tensor([0.1, 0.2, 0.3], dtype=shendu.float64)
sw = shendu.tensor(w, requires_grad=True)           # float64, like the NumPy array
sb = shendu.tensor([0.0, 0.0, -1.0], dtype=shendu.float64, requires_grad=True)
print("shendu  W@a      =", sw @ sa)
sa2 = sw @ sa + sb
print("shendu  W@a+b    =", sa2)
out = shendu.sigmoid(sa2)
print("shendu  sigmoid  =", out)
np.testing.assert_allclose(out.detach().numpy(), sigmoid(a2), rtol=1e-12)

# What NumPy cannot tell you: how the output moves when a weight moves.
out.sum().backward()
print("d(sum of outputs)/dW =\n", sw.grad)
print("d(sum of outputs)/db =", sb.grad)
expected = (sigmoid(a2) * (1 - sigmoid(a2)))         # sigma'(z) = sigma(z)(1 - sigma(z))
np.testing.assert_allclose(sb.grad.numpy(), expected, rtol=1e-12)
print("identical to the NumPy result, and the gradients match sigma'(z) = sigma(z)(1 - sigma(z))")
