"""Adam and AdamW: momentum plus per-parameter step sizes from the squared gradients."""
from __future__ import annotations

from ..autograd.tensor import Tensor
from .optimizer import Optimizer, grad_with_weight_decay, lerp_

__all__ = ["Adam", "AdamW"]


def check_adam_options(group):
    """The option checks Adam, AdamW and NAdam share."""
    if not 0.0 <= group["lr"]:
        raise ValueError(f"Invalid learning rate: {group['lr']}")
    if not 0.0 <= group["eps"]:
        raise ValueError(f"Invalid epsilon value: {group['eps']}")
    betas = group["betas"]
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    if not 0.0 <= group["weight_decay"]:
        raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015).

    The course's rule: Momentum and AdaGrad combined — the momentum speeds up
    convergence, the running average of g² adapts each parameter's learning rate::

        x = x - lr / sqrt(v̂_t) * m̂_t
        m̂_t: the exponentially decaying average of the gradients (bias-corrected)
        v̂_t: the exponentially decaying average of the squared gradients (bias-corrected)

    PyTorch's form, followed here exactly (t counts the steps from 1)::

        g  = grad (negated when maximize=True)
        decoupled_weight_decay:  x = x * (1 - lr * weight_decay)     (AdamW)
        else:                    g = g + weight_decay * x            (L2 penalty)
        m  = β1 m + (1 - β1) g
        v  = β2 v + (1 - β2) g²
        amsgrad:  v_max = max(v_max, v), used in place of v below
        m̂ = m / (1 - β1^t),   v̂ = v / (1 - β2^t)
        x  = x - lr * m̂ / (sqrt(v̂) + eps)

    Parameters
    ----------
    params : iterable of Tensors or dicts (parameter groups)
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
        Decays of the running averages of g and g².
    eps : float, default 1e-8
    weight_decay : float, default 0
    amsgrad : bool, default False
        Use the maximum of the past ``v`` (Reddi et al., 2018).
    maximize : bool, default False
    decoupled_weight_decay : bool, default False
        Shrink the weights directly instead of adding to the gradient (what AdamW does).

    Examples
    --------
    >>> import shendu
    >>> from shendu import optim
    >>> x = shendu.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.Adam([x], lr=0.1)
    >>> (x ** 2).sum().backward(); opt.step()    # the first step is lr * sign(g)
    >>> x
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_options(self, group):
        check_adam_options(group)

    def _update(self, p, grad, state, group):
        xp = p.xp
        if not state:
            state["step"] = 0
            state["exp_avg"] = Tensor._make(xp.zeros_like(p._data))
            state["exp_avg_sq"] = Tensor._make(xp.zeros_like(p._data))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = Tensor._make(xp.zeros_like(p._data))
        state["step"] += 1
        step = state["step"]
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        weight_decay = float(group["weight_decay"])

        if weight_decay != 0 and group["decoupled_weight_decay"]:
            p._data *= 1 - lr * weight_decay
            weight_decay = 0.0
        g, owned = grad_with_weight_decay(p, grad, weight_decay, group["maximize"])
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data

        tmp = xp.empty_like(m)
        lerp_(xp, m, g, 1 - beta1, tmp)
        xp.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v *= beta2
        v += tmp

        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"]._data
            xp.maximum(v_max, v, out=v_max)
            v = v_max
        xp.sqrt(v, out=tmp)
        tmp /= bias_correction2 ** 0.5
        tmp += eps
        xp.divide(m, tmp, out=tmp)
        tmp *= -step_size
        p._data += tmp


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    Adam's L2 penalty is divided by ``sqrt(v̂)`` like the rest of the gradient, so
    weights with large gradients are barely decayed. AdamW shrinks the weights
    directly, before the Adam step::

        x = x * (1 - lr * weight_decay)
        x = x - lr * m̂ / (sqrt(v̂) + eps)        (m̂, v̂ as in Adam, from the raw gradient)

    Same parameters as :class:`Adam`, with ``weight_decay=1e-2`` by default.

    Examples
    --------
    >>> import shendu
    >>> from shendu import optim
    >>> x = shendu.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.AdamW([x], lr=0.1, weight_decay=0.5)
    >>> (x ** 2).sum().backward(); opt.step()    # x * (1 - 0.05), then - 0.1 * sign(g)
    >>> x
    tensor([ 0.8500, -1.8000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
