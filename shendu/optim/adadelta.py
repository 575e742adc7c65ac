"""AdaDelta: AdaGrad over a window of recent gradients, with no learning rate to tune."""
from __future__ import annotations

from ..autograd.tensor import Tensor
from .optimizer import Optimizer, grad_with_weight_decay

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""AdaDelta (Zeiler, 2012).

    The course's rules: AdaGrad sums *all* squared gradients, so its steps shrink to
    0; AdaDelta keeps a decaying average over a window instead (γ plays the role of
    the momentum)::

        E[g²]_t = γ E[g²]_{t-1} + (1 - γ) g_t²
        x = x - lr / sqrt(E[g²]_t) * g

    and its improved form needs no learning rate at all: the step's units come from
    the running RMS of the past updates Δx::

        x = x - RMS[Δx]_{t-1} / RMS[g]_t * g

    PyTorch's form, followed here exactly (ρ = rho; ``lr`` only scales the result and
    is 1 by default)::

        g     = grad + weight_decay * x             (negated first when maximize=True)
        v     = ρ v + (1 - ρ) g²                    (E[g²])
        Δ     = sqrt(u + eps) / sqrt(v + eps) * g   (RMS[Δx]_{t-1} / RMS[g]_t * g)
        u     = ρ u + (1 - ρ) Δ²                    (E[Δx²])
        x     = x - lr * Δ

    Parameters
    ----------
    params : iterable of Tensors or dicts (parameter groups)
    lr : float, default 1.0
    rho : float, default 0.9
        Decay of the running averages (γ above).
    eps : float, default 1e-6
    weight_decay : float, default 0
    maximize : bool, default False

    Examples
    --------
    >>> import shendu
    >>> from shendu import optim
    >>> x = shendu.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.Adadelta([x])
    >>> (x ** 2).sum().backward(); opt.step()    # the first steps are tiny
    >>> x
    tensor([ 0.9968, -1.9968], requires_grad=True)
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *,
                 maximize=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, group):
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def _update(self, p, grad, state, group):
        xp = p.xp
        if not state:
            state["step"] = 0
            state["square_avg"] = Tensor._make(xp.zeros_like(p._data))
            state["acc_delta"] = Tensor._make(xp.zeros_like(p._data))
        state["step"] += 1
        rho, eps = float(group["rho"]), float(group["eps"])
        g, _ = grad_with_weight_decay(p, grad, float(group["weight_decay"]), group["maximize"])
        v, u = state["square_avg"]._data, state["acc_delta"]._data

        tmp = xp.multiply(g, g)
        tmp *= 1 - rho
        v *= rho
        v += tmp
        std = xp.add(v, eps, out=tmp)
        xp.sqrt(std, out=std)
        delta = xp.add(u, eps)
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        u *= rho
        xp.multiply(delta, delta, out=tmp)
        tmp *= 1 - rho
        u += tmp
        delta *= -float(group["lr"])
        p._data += delta
