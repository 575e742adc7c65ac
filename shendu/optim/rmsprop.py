"""RMSprop: divide each step by a running RMS of the recent gradients."""
from __future__ import annotations

from ..autograd.tensor import Tensor
from .optimizer import Optimizer, grad_with_weight_decay, lerp_

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e, 2012).

    The course's rule: proposed at about the same time as AdaDelta, RMSprop is the
    special case with a constant decay (Hinton suggests 0.9)::

        E[g²]_t = 0.9 E[g²]_{t-1} + 0.1 g_t²
        x = x - lr / sqrt(E[g²]_t) * g

    PyTorch's form, followed here exactly (α = alpha, default 0.99)::

        g = grad + weight_decay * x              (negated first when maximize=True)
        v = α v + (1 - α) g²
        centered:  m = α m + (1 - α) g;  s = sqrt(v - m²) + eps   (variance, not 2nd moment)
        else:      s = sqrt(v) + eps
        momentum > 0:  b = momentum * b + g / s;  x = x - lr * b
        else:          x = x - lr * g / s

    Parameters
    ----------
    params : iterable of Tensors or dicts (parameter groups)
    lr : float, default 1e-2
    alpha : float, default 0.99
        Decay of the running average of g² (the course's 0.9).
    eps : float, default 1e-8
    weight_decay : float, default 0
    momentum : float, default 0
    centered : bool, default False
        Normalize by an estimate of the gradient's variance instead.
    maximize : bool, default False

    Examples
    --------
    >>> import shendu
    >>> from shendu import optim
    >>> x = shendu.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.RMSprop([x], lr=0.01, alpha=0.9)
    >>> (x ** 2).sum().backward(); opt.step()    # first step: lr * g / sqrt(0.1 g²)
    >>> x
    tensor([ 0.9684, -1.9684], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, group):
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        if not 0.0 <= group["momentum"]:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if not 0.0 <= group["alpha"]:
            raise ValueError(f"Invalid alpha value: {group['alpha']}")

    def _update(self, p, grad, state, group):
        xp = p.xp
        momentum = float(group["momentum"])
        if not state:
            state["step"] = 0
            state["square_avg"] = Tensor._make(xp.zeros_like(p._data))
            if momentum > 0:
                state["momentum_buffer"] = Tensor._make(xp.zeros_like(p._data))
            if group["centered"]:
                state["grad_avg"] = Tensor._make(xp.zeros_like(p._data))
        state["step"] += 1
        alpha, eps = float(group["alpha"]), float(group["eps"])
        g, _ = grad_with_weight_decay(p, grad, float(group["weight_decay"]), group["maximize"])
        v = state["square_avg"]._data

        tmp = xp.multiply(g, g)
        tmp *= 1 - alpha
        v *= alpha
        v += tmp
        if group["centered"]:
            m = state["grad_avg"]._data
            lerp_(xp, m, g, 1 - alpha, tmp)
            xp.multiply(m, m, out=tmp)
            xp.subtract(v, tmp, out=tmp)
            xp.sqrt(tmp, out=tmp)
        else:
            xp.sqrt(v, out=tmp)
        tmp += eps
        xp.divide(g, tmp, out=tmp)
        if momentum > 0:
            b = state["momentum_buffer"]._data
            b *= momentum
            b += tmp
            xp.multiply(b, -float(group["lr"]), out=tmp)
        else:
            tmp *= -float(group["lr"])
        p._data += tmp
