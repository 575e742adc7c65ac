"""Autograd: ``Tensor``, ``Function``, the backward engine, grad mode, gradient checks."""
from .tensor import Tensor
from .grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled
from .function import Function, Context
from .engine import backward, grad
from .gradcheck import gradcheck, gradgradcheck, numerical_gradient
from .graphviz import graph_to_dot

__all__ = ["Tensor", "Function", "Context", "backward", "grad", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "gradcheck", "gradgradcheck",
           "numerical_gradient", "graph_to_dot"]
