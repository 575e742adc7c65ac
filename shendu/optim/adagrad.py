"""AdaGrad: per-parameter learning rates that shrink with the squared gradients seen."""
from __future__ import annotations

from ..autograd.tensor import Tensor
from .optimizer import Optimizer, grad_with_weight_decay

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""AdaGrad (Duchi et al., 2011).

    The course's rule: keep the sum of all squared gradients, and divide each step
    by its square root, so parameters that change often get a smaller learning rate
    (learning-rate decay per parameter; run long enough, the steps shrink to 0)::

        h = h + g * g
        x = x - lr * g / sqrt(h)

    PyTorch's form, followed here exactly (t counts the steps from 1)::

        g   = grad + weight_decay * x        (negated first when maximize=True)
        clr = lr / (1 + (t - 1) * lr_decay)
        h   = h + g * g                      (h starts at initial_accumulator_value)
        x   = x - clr * g / (sqrt(h) + eps)

    Parameters
    ----------
    params : iterable of Tensors or dicts (parameter groups)
    lr : float, default 1e-2
    lr_decay : float, default 0
    weight_decay : float, default 0
    initial_accumulator_value : float, default 0
    eps : float, default 1e-10
        Added to the denominator for numerical stability.
    maximize : bool, default False

    Examples
    --------
    >>> import shendu
    >>> from shendu import optim
    >>> x = shendu.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.Adagrad([x], lr=0.5)
    >>> (x ** 2).sum().backward(); opt.step()    # each step is lr * g/|g| at first
    >>> x
    tensor([ 0.5000, -1.5000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, *, maximize=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        maximize=maximize)
        super().__init__(params, defaults)
        # PyTorch fills Adagrad's state at construction (so state_dict() has it at once).
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p], group)

    @staticmethod
    def _init_state(p, state, group):
        state["step"] = 0
        sum_ = p.xp.empty_like(p._data)
        sum_.fill(group["initial_accumulator_value"])
        state["sum"] = Tensor._make(sum_)

    def _check_options(self, group):
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["lr_decay"]:
            raise ValueError(f"Invalid lr_decay value: {group['lr_decay']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if not 0.0 <= group["initial_accumulator_value"]:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{group['initial_accumulator_value']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")

    def _update(self, p, grad, state, group):
        if not state:  # a parameter added later with add_param_group
            self._init_state(p, state, group)
        xp = p.xp
        state["step"] += 1
        step = state["step"]
        g, _ = grad_with_weight_decay(p, grad, float(group["weight_decay"]), group["maximize"])
        clr = float(group["lr"]) / (1 + (step - 1) * float(group["lr_decay"]))
        h = state["sum"]._data
        tmp = xp.multiply(g, g)
        h += tmp
        xp.sqrt(h, out=tmp)
        tmp += float(group["eps"])
        xp.divide(g, tmp, out=tmp)
        tmp *= -clr
        p._data += tmp
