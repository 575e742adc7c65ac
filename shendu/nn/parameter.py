"""``Parameter``: a Tensor that a ``Module`` registers as one of its learnable weights.

Assigning a Parameter to a module attribute (``self.weight = Parameter(...)``) adds it
to ``module.parameters()``, which is what an optimizer updates. A Parameter requires
grad unless told otherwise; anything computed from it is a plain Tensor.

>>> import shendu
>>> from shendu.nn import Parameter
>>> w = Parameter(shendu.zeros(2))
>>> w
Parameter containing:
tensor([0., 0.], requires_grad=True)
"""
from __future__ import annotations

from ..autograd.tensor import Tensor, _to_array


class Parameter(Tensor):
    """A learnable tensor of a module.

    Parameters
    ----------
    data : Tensor, array or nested lists, optional
        The initial value. A Tensor's array is shared, not copied (like PyTorch), so
        ``Parameter(t)`` sees later in-place changes of ``t``. ``None`` gives an empty
        tensor.
    requires_grad : bool, default True
        Whether the optimizer should learn it (False for frozen weights).
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            array = _to_array([], None)
        elif isinstance(data, Tensor):
            array = data._data
        else:
            array = _to_array(data)
        Tensor.__init__(self, array, requires_grad=False)
        self._data = array  # Tensor.__init__ copies; a Parameter shares like PyTorch
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __deepcopy__(self, memo):
        out = Parameter(self._data.copy(), requires_grad=self.requires_grad)
        if self.grad is not None:
            out.grad = Tensor._make(self.grad._data.copy())
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol):  # copy.copy; shendu never pickles
        return (Parameter, (self._data, self.requires_grad))
