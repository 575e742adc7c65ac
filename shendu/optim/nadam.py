"""NAdam: Adam with Nesterov momentum."""
from __future__ import annotations

from ..autograd.tensor import Tensor
from .adam import check_adam_options
from .optimizer import Optimizer, grad_with_weight_decay, lerp_

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016): Adam whose momentum looks ahead like Nesterov's.

    Nesterov's idea (the course's NAG) applied to Adam: the step mixes the current
    gradient and the momentum *of the next step*. The momentum coefficient warms up,
    ``μ_t = β1 (1 - 0.5 · 0.96^(t · momentum_decay))``, and PyTorch's form, followed
    here exactly, is::

        g = grad + weight_decay * x    (or x = x * (1 - lr * weight_decay) if decoupled)
        m = β1 m + (1 - β1) g
        v = β2 v + (1 - β2) g²
        P_t = μ_1 μ_2 ... μ_t
        d = sqrt(v / (1 - β2^t)) + eps
        x = x - lr (1 - μ_t) / (1 - P_t) · g / d  -  lr μ_{t+1} / (1 - P_t μ_{t+1}) · m / d

    Parameters
    ----------
    params : iterable of Tensors or dicts (parameter groups)
    lr : float, default 2e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 0
    momentum_decay : float, default 4e-3
    decoupled_weight_decay : bool, default False
        AdamW-style weight decay (NAdamW).
    maximize : bool, default False

    Examples
    --------
    >>> import shendu
    >>> from shendu import optim
    >>> x = shendu.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.NAdam([x], lr=0.1)
    >>> (x ** 2).sum().backward(); opt.step()
    >>> x
    tensor([ 0.8944, -1.8944], requires_grad=True)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, group):
        check_adam_options(group)
        if not 0.0 <= group["momentum_decay"]:
            raise ValueError(f"Invalid momentum_decay value: {group['momentum_decay']}")

    def _update(self, p, grad, state, group):
        xp = p.xp
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = Tensor._make(xp.zeros_like(p._data))
            state["exp_avg_sq"] = Tensor._make(xp.zeros_like(p._data))
        state["step"] += 1
        step = state["step"]
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        weight_decay = float(group["weight_decay"])
        momentum_decay = float(group["momentum_decay"])

        if weight_decay != 0 and group["decoupled_weight_decay"]:
            p._data *= 1 - lr * weight_decay
            weight_decay = 0.0
        g, owned = grad_with_weight_decay(p, grad, weight_decay, group["maximize"])
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data

        bias_correction2 = 1 - beta2 ** step
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        mu_product = float(state["mu_product"]) * mu
        state["mu_product"] = mu_product
        mu_product_next = mu_product * mu_next

        tmp = xp.empty_like(m)
        lerp_(xp, m, g, 1 - beta1, tmp)
        xp.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v *= beta2
        v += tmp
        denom = xp.divide(v, bias_correction2, out=tmp)
        xp.sqrt(denom, out=denom)
        denom += eps

        step_grad = xp.divide(g, denom, out=g if owned else None)
        step_grad *= -lr * (1.0 - mu) / (1.0 - mu_product)
        p._data += step_grad
        xp.divide(m, denom, out=denom)
        denom *= -lr * mu_next / (1.0 - mu_product_next)
        p._data += denom
