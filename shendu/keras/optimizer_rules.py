"""Keras 3's update rules where they differ from PyTorch's (used by ``keras.optimizers``).

``keras.optimizers.Adam``, ``RMSprop`` and ``Adagrad`` put their ``epsilon`` in a
different place from ``torch.optim``'s, and Keras's RMSprop keeps the learning rate
inside its momentum buffer. With Keras's default ``epsilon=1e-7`` the difference is not
a rounding error: for RMSprop, ``sqrt(v + 1e-7)`` floors the denominator at 3.2e-4, where
PyTorch's ``sqrt(v) + 1e-7`` lets it fall to 1e-7, so the first steps of weights with
small gradients are 10x (gradient 1e-4) to 1,000x (gradient 1e-6) smaller in Keras. Course code written for tf.keras gives Keras's
numbers only with Keras's rule, so ``shendu.keras`` uses these; ``shendu.optim`` keeps
PyTorch's.

==========  ==============================================  ============================
optimizer   Keras 3 (here)                                  PyTorch (``shendu.optim``)
==========  ==============================================  ============================
RMSprop     ``v = rho v + (1 - rho) g^2``                   same ``v``;
            ``inc = lr g / sqrt(v + eps)``                  ``b = mu b + g / (sqrt(v) + eps)``
            ``b = mu b + inc; w -= b`` (``w -= inc``)       ``w -= lr b``
            centered: ``sqrt(v - a^2 + eps)``               ``sqrt(v - a^2) + eps``
Adam        ``alpha = lr sqrt(1 - b2^t) / (1 - b1^t)``      ``w -= lr / (1 - b1^t) m /``
            ``w -= alpha m / (sqrt(v) + eps)``              ``(sqrt(v / (1 - b2^t)) + eps)``
Adagrad     ``h += g^2; w -= lr g / sqrt(h + eps)``         ``w -= lr g / (sqrt(h) + eps)``
Nadam       ``mu_t = b1 (1 - 0.5 * 0.96^t)``                ``0.96^(0.004 t)``
==========  ==============================================  ============================

(Keras's Adam adds ``eps`` to ``sqrt(v)`` before the bias correction, the "epsilon hat"
of Kingma and Ba; PyTorch after it. Keras's Nadam warms its momentum up over ~25 steps,
PyTorch's over ~6,000.) SGD and Adadelta already agree. The step's scalars (``b1^t``,
``mu_t`` ...) are computed in the weights' dtype, as Keras does, so float32 runs match
Keras to the last few bits, not only to the formula. Weight decay
is applied by ``keras.optimizers.Optimizer.step`` before the rule, as Keras does, so the
rules see no ``weight_decay``.

>>> import numpy as np, shendu
>>> w = shendu.tensor([1.0], requires_grad=True)
>>> opt = KerasRMSprop([w], lr=0.001, alpha=0.9, eps=1e-7)
>>> w.grad = shendu.tensor([1e-4])           # a small gradient: v = 1e-9
>>> opt.step()
>>> round(float(1.0 - w.data[0]), 8)         # 1e-3 * 1e-4 / sqrt(1e-9 + 1e-7); PyTorch: 3.2e-3
0.00031465
"""
from __future__ import annotations

from ..autograd.tensor import Tensor
from ..optim.adagrad import Adagrad as _Adagrad
from ..optim.adam import Adam as _Adam
from ..optim.nadam import NAdam as _NAdam
from ..optim.optimizer import grad_with_weight_decay, lerp_
from ..optim.rmsprop import RMSprop as _RMSprop

__all__ = ["KerasRMSprop", "KerasAdam", "KerasAdagrad", "KerasNadam"]


def _zeros(xp, p):
    return Tensor._make(xp.zeros_like(p._data))


class KerasRMSprop(_RMSprop):
    """RMSprop by Keras 3's rule (``alpha`` is Keras's ``rho``); see the module table."""

    def _update(self, p, grad, state, group):
        xp = p.xp
        momentum = float(group["momentum"])
        if not state:
            state["step"] = 0
            state["square_avg"] = _zeros(xp, p)
            if momentum > 0:
                state["momentum_buffer"] = _zeros(xp, p)
            if group["centered"]:
                state["grad_avg"] = _zeros(xp, p)
        state["step"] += 1
        rho, eps, lr = float(group["alpha"]), float(group["eps"]), float(group["lr"])
        g, _ = grad_with_weight_decay(p, grad, 0.0, group["maximize"])
        v = state["square_avg"]._data
        tmp = xp.multiply(g, g)                 # v = rho v + (1 - rho) g^2
        tmp *= 1 - rho
        v *= rho
        v += tmp
        if group["centered"]:                   # denominator = v - a^2 + eps
            a = state["grad_avg"]._data
            lerp_(xp, a, g, 1 - rho, tmp)
            xp.multiply(a, a, out=tmp)
            xp.subtract(v, tmp, out=tmp)
            tmp += eps
        else:                                   # denominator = v + eps
            xp.add(v, eps, out=tmp)
        xp.sqrt(tmp, out=tmp)
        xp.divide(g, tmp, out=tmp)              # increment = lr g / sqrt(denominator)
        tmp *= lr
        if momentum > 0:                        # b = mu b + increment; w -= b
            b = state["momentum_buffer"]._data
            b *= momentum
            b += tmp
            p._data -= b
        else:
            p._data -= tmp


class KerasAdam(_Adam):
    """Adam (and AMSGrad) by Keras 3's rule; see the module table."""

    def _update(self, p, grad, state, group):
        xp = p.xp
        if not state:
            state["step"] = 0
            state["exp_avg"] = _zeros(xp, p)
            state["exp_avg_sq"] = _zeros(xp, p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = _zeros(xp, p)
        state["step"] += 1
        f = p._data.dtype.type                   # Keras: scalars in the variable's dtype
        t = f(state["step"])
        lr, eps = f(group["lr"]), float(group["eps"])
        beta1, beta2 = (f(b) for b in group["betas"])
        g, _ = grad_with_weight_decay(p, grad, 0.0, group["maximize"])
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        tmp = xp.empty_like(m)
        _moments(xp, m, v, g, *(float(b) for b in group["betas"]), tmp)
        if group["amsgrad"]:
            v_hat = state["max_exp_avg_sq"]._data
            xp.maximum(v_hat, v, out=v_hat)
            v = v_hat
        alpha = lr * (f(1) - beta2 ** t) ** f(0.5) / (f(1) - beta1 ** t)
        xp.sqrt(v, out=tmp)                     # w -= alpha m / (sqrt(v) + eps)
        tmp += eps
        xp.divide(m, tmp, out=tmp)
        tmp *= float(alpha)
        p._data -= tmp


def _moments(xp, m, v, g, beta1, beta2, tmp):
    """Adam's moments in place: ``m += (g - m)(1 - b1)``, ``v += (g^2 - v)(1 - b2)``
    (``1 - b`` from the Python floats, as Keras writes it; the powers ``b^t`` use ``b`` in
    the weights' dtype)."""
    lerp_(xp, m, g, 1 - beta1, tmp)
    xp.multiply(g, g, out=tmp)
    tmp *= 1 - beta2
    v *= beta2
    v += tmp


class KerasNadam(_NAdam):
    """Nadam by Keras 3's rule: ``mu_t = b1 (1 - 0.5 * 0.96^t)``, ``P_t = mu_1 ... mu_t``,

        m_hat = mu_{t+1} m / (1 - P_t mu_{t+1}) + (1 - mu_t) g / (1 - P_t)
        w    -= lr m_hat / (sqrt(v / (1 - b2^t)) + eps)
    """

    def _update(self, p, grad, state, group):
        xp = p.xp
        f = p._data.dtype.type
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = _zeros(xp, p)
            state["exp_avg_sq"] = _zeros(xp, p)
        state["step"] += 1
        t = f(state["step"])
        lr, eps = f(group["lr"]), float(group["eps"])
        beta1, beta2 = (f(b) for b in group["betas"])
        mu_t = beta1 * (f(1) - f(0.5) * f(0.96) ** t)
        mu_next = beta1 * (f(1) - f(0.5) * f(0.96) ** (t + f(1)))
        prod = f(state["mu_product"]) * mu_t
        state["mu_product"] = float(prod)
        g, _ = grad_with_weight_decay(p, grad, 0.0, group["maximize"])
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        tmp = xp.empty_like(m)
        _moments(xp, m, v, g, *(float(b) for b in group["betas"]), tmp)
        xp.divide(v, float(f(1) - beta2 ** t), out=tmp)   # d = sqrt(v_hat) + eps
        xp.sqrt(tmp, out=tmp)
        tmp += eps
        m_hat = m * float(mu_next / (f(1) - prod * mu_next))
        m_hat += g * float((f(1) - mu_t) / (f(1) - prod))
        m_hat /= tmp
        m_hat *= float(lr)
        p._data -= m_hat


class KerasAdagrad(_Adagrad):
    """Adagrad by Keras 3's rule (no ``lr_decay``); see the module table."""

    def _update(self, p, grad, state, group):
        if not state:
            self._init_state(p, state, group)
        xp = p.xp
        state["step"] += 1
        g, _ = grad_with_weight_decay(p, grad, 0.0, group["maximize"])
        h = state["sum"]._data
        tmp = xp.multiply(g, g)                 # h += g^2
        h += tmp
        xp.add(h, float(group["eps"]), out=tmp)  # w -= lr g / sqrt(h + eps)
        xp.sqrt(tmp, out=tmp)
        xp.divide(g, tmp, out=tmp)
        tmp *= float(group["lr"])
        p._data -= tmp
