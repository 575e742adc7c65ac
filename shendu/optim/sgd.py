"""Stochastic gradient descent, with momentum and Nesterov momentum."""
from __future__ import annotations

from ..autograd.tensor import Tensor
from .optimizer import Optimizer, grad_with_weight_decay

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum or Nesterov momentum).

    The course's rules (lr = learning rate, m = momentum, g = gradient):

    * SGD:       ``x = x - lr * g``
    * Momentum:  ``v = m * v - lr * g;  x = x + v``
      (a ball rolling into a bowl: the velocity accumulates past gradients)
    * Nesterov (NAG): ``v = m * v - lr * grad(x + m * v);  x = x + v``
      (look ahead to where the momentum is taking us, and slow down in time)

    As in PyTorch, the buffer ``b`` holds the velocity without the learning rate, which
    gives the same steps while ``lr`` is constant (and stays right when a scheduler
    changes it)::

        g = grad + weight_decay * x           (negated first when maximize=True)
        b = g                                 on the first step
        b = momentum * b + (1 - dampening) * g   afterwards
        d = g + momentum * b  if nesterov  else  b      (d = g when momentum == 0)
        x = x - lr * d

    Nesterov's look-ahead gradient is rewritten this way (Sutskever et al., 2013) so
    that it needs only the gradient at ``x``.

    Parameters
    ----------
    params : iterable of Tensors or dicts (parameter groups)
    lr : float, default 1e-3
    momentum : float, default 0
    dampening : float, default 0
        Scales down the new gradient in the momentum buffer.
    weight_decay : float, default 0
        L2 penalty: adds ``weight_decay * x`` to the gradient.
    nesterov : bool, default False
        Needs ``momentum > 0`` and ``dampening == 0``.
    maximize : bool, default False
        Climb the objective instead of descending it.

    Examples
    --------
    >>> import shendu
    >>> from shendu import optim
    >>> x = shendu.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.SGD([x], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     loss = (x ** 2).sum()        # gradient 2x
    ...     loss.backward()
    ...     opt.step()
    >>> x                                # 1 -> 0.8 -> 0.8 - 0.1*(0.9*2 + 1.6)
    tensor([ 0.4600, -0.9200], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, group):
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if group["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, p, grad, state, group):
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        g, owned = grad_with_weight_decay(p, grad, float(group["weight_decay"]),
                                          group["maximize"])
        scratch = g if owned else None  # a temporary we may overwrite
        d = g
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                b = g.copy()
                state["momentum_buffer"] = Tensor._make(b)
            else:
                b = buf._data
                b *= momentum
                dampening = float(group["dampening"])
                if dampening != 0:
                    b += (1 - dampening) * g
                else:
                    b += g
            if group["nesterov"]:
                if scratch is None:
                    d = scratch = b * momentum
                    d += grad
                else:
                    d += momentum * b
            else:
                d = b
        if d is scratch:
            d *= -lr
            p._data += d
        elif scratch is not None:
            p.xp.multiply(d, -lr, out=scratch)
            p._data += scratch
        else:
            p._data += (-lr) * d
