"""The backward engine: reverse-mode differentiation over the recorded graph.

Walk the graph once (iteratively, no recursion, so an RNN unrolled over 10,000
steps is fine), order the nodes so each runs after every node that consumes its
outputs, then call each Function's ``backward`` with the summed gradient of its
outputs (the chain rule: dL/dx = sum over consumers of dL/dy * dy/dx).

With ``create_graph=True`` the same backward code runs on Tensors, so the
gradients are themselves part of a graph (Hessian-vector products, gradient
penalties).
"""
from __future__ import annotations

from . import grad_mode
from .. import kernels
from .function import _FREED_MESSAGE, check_versions
from . import hooks
from .hooks import run_tensor_hooks
from .tensor import Tensor


def _topological_order(root_nodes):
    """Nodes reachable from ``root_nodes``, each listed before the nodes of its inputs."""
    post, seen = [], set()
    for root in root_nodes:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root.inputs))]
        while stack:
            node, it = stack[-1]
            for t in it:
                if t is not None and t._node is not None and id(t._node) not in seen:
                    seen.add(id(t._node))
                    stack.append((t._node, iter(t._node.inputs)))
                    break
            else:
                stack.pop()
                post.append(node)
    post.reverse()
    return post


def _check_root(t, g):
    if not isinstance(t, Tensor):
        raise TypeError(f"backward() expects Tensors, got {type(t).__name__}")
    if not t.requires_grad:
        raise RuntimeError(
            "element 0 of tensors does not require grad and does not have a grad_fn: "
            "the result was computed from tensors without requires_grad=True "
            "(or inside no_grad())")
    if g is None:
        if t._data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs, but this tensor "
                f"has shape {t.shape}: call .sum() or .mean() first, or pass "
                "gradient= (a tensor of the same shape) to backward()")
        return t.xp.ones_like(t._data)
    g = g._data if isinstance(g, Tensor) else t.xp.asarray(g, dtype=t._data.dtype)
    if g.shape != t._data.shape:
        raise RuntimeError(f"gradient has shape {tuple(g.shape)} but the output has shape "
                           f"{t.shape}: they must match")
    return g  # not copied: see ``foreign`` in run_backward


def _bases(a):
    """``a`` and the arrays whose memory it views (``a.base``, its base, ...)."""
    while a is not None:
        yield a
        a = getattr(a, "base", None)


def _own(g, foreign):
    """``g``, or a copy if it is (a view of) one of the caller's gradient arrays."""
    return g.copy() if any(id(a) in foreign for a in _bases(g)) else g


def _add(a, b):
    return b if a is None else kernels.add(a, b)  # a + b, on all threads when big


def run_backward(roots, grads, retain_graph=False, create_graph=False, capture=None):
    """Back-propagate ``grads`` from ``roots``.

    Leaves get their ``.grad`` accumulated unless ``capture`` is given (a dict
    ``id(tensor) -> None`` filled with the gradients of those tensors instead, for
    ``autograd.grad``).
    """
    seeds = [_check_root(t, g) for t, g in zip(roots, grads)]
    # The caller's gradient arrays are read, never written, and never become a .grad
    # (or an autograd.grad result) themselves: those get a copy. (Copying them up front
    # cost a full pass over memory on every backward of a big output.)
    foreign = {id(a) for s, g in zip(seeds, grads) if g is not None for a in _bases(s)}
    with grad_mode.set_grad_enabled(create_graph):
        if create_graph:  # the seeds become graph tensors: they get their own copies
            seeds = [Tensor._make(g.copy() if id(g) in foreign else g) for g in seeds]
        buffers = {}
        leaf_grads = {}
        for t, g in zip(roots, seeds):
            if t._node is None:
                leaf_grads[id(t)] = (t, _add(leaf_grads.get(id(t), (t, None))[1], g))
            else:
                buf = buffers.setdefault(id(t._node), [None] * len(t._node.out_meta))
                buf[t._out_index] = _add(buf[t._out_index], g)
        order = _topological_order([t._node for t in roots if t._node is not None])
        if capture is not None:
            order = _prune(order, capture)
        for node in order:
            out_grads = buffers.pop(id(node), None)
            if out_grads is None:
                continue
            if node.freed:
                raise RuntimeError(_FREED_MESSAGE.format(node.fn.__name__))
            if hooks.any_registered:
                _run_output_hooks(node, out_grads)
            _deliver_retained(node, out_grads, capture, foreign)
            in_grads = _call_backward(node, out_grads, create_graph)
            for t, g in zip(node.inputs, in_grads):
                if g is None or t is None or not t.requires_grad:
                    continue
                _check_grad_shape(node, t, g)
                if t._node is None:
                    prev = leaf_grads.get(id(t))
                    leaf_grads[id(t)] = (t, g) if prev is None else (t, _add(prev[1], g), True)
                else:
                    buf = buffers.setdefault(id(t._node), [None] * len(t._node.out_meta))
                    buf[t._out_index] = _add(buf[t._out_index], g)
            if not retain_graph:
                _free(node)
        delivered = set()
        for t, g, *summed in leaf_grads.values():
            hooked = run_tensor_hooks(t, g) if hooks.any_registered else g
            if hooked is not g:  # a hook's result may be shared: .grad gets its own copy
                g, summed = (hooked if create_graph else hooked.copy()), [True]
            if capture is not None:
                if id(t) in capture:
                    capture[id(t)] = _own(g, foreign)
            else:
                # An array made by our own sum, or fresh from a backward and not handed to
                # another leaf (nor the caller's), can become .grad as is; else a copy.
                owned = bool(summed) or (getattr(g, "base", 0) is None and id(g) not in delivered
                                         and id(g) not in foreign)
                delivered.add(id(g))
                _accumulate(t, g, create_graph, owned)


def _prune(order, capture):
    """Keep only nodes from which a captured tensor can be reached."""
    reaches = set()
    for node in reversed(order):  # inputs' nodes first
        for t in node.inputs:
            if t is None:
                continue
            if id(t) in capture or (t._node is not None and id(t._node) in reaches):
                reaches.add(id(node))
                break
    return [n for n in order if id(n) in reaches]


def _run_output_hooks(node, out_grads):
    """Let the hooks of the node's output tensors see (and replace) their gradients."""
    for idx, ref in enumerate(node._outs):
        t = ref()
        if t is not None and out_grads[idx] is not None and getattr(t, "_hooks", None):
            out_grads[idx] = run_tensor_hooks(t, out_grads[idx])


def _deliver_retained(node, out_grads, capture, foreign=()):
    """Give non-leaf tensors their gradient: ``retain_grad()`` ones, or captured ones."""
    for idx, ref in enumerate(node._outs):
        g = out_grads[idx]
        t = ref()
        if t is None or g is None:
            continue
        if capture is not None:
            if id(t) in capture:
                capture[id(t)] = _own(g, foreign)
        elif t._retains_grad:
            _accumulate(t, g, isinstance(g, Tensor))


def _call_backward(node, out_grads, create_graph):
    fn = node.fn
    check_versions(node)
    xp = node.xp
    if create_graph:
        if not fn.double_backward:
            raise RuntimeError(
                f"{fn.__name__} does not support double backward: its gradient is not "
                "itself differentiable in shendu, so create_graph=True (or autograd.grad "
                "with create_graph=True) cannot pass through it")
        from ..ops._tensor_xp import tensor_namespace
        out_grads = [Tensor._make(xp.zeros(s, d)) if g is None else
                     (g if isinstance(g, Tensor) else Tensor._make(g))
                     for g, (s, d) in zip(out_grads, node.out_meta)]
        node.tensor_mode, node.xp = True, tensor_namespace(xp)
        try:
            res = fn.backward(node, *out_grads)
        finally:
            node.tensor_mode, node.xp = False, xp
    else:
        out_grads = [xp.zeros(s, d) if g is None else g
                     for g, (s, d) in zip(out_grads, node.out_meta)]
        res = fn.backward(node, *out_grads)
    if not isinstance(res, tuple):
        res = (res,)
    if len(res) != len(node.inputs):
        raise RuntimeError(f"{fn.__name__}.backward returned {len(res)} gradients, "
                           f"expected {len(node.inputs)} (one per forward argument)")
    return res


def _check_grad_shape(node, t, g):
    if tuple(g.shape) != t._data.shape:
        raise RuntimeError(f"{node.fn.__name__}.backward returned a gradient of shape "
                           f"{tuple(g.shape)} for an input of shape {t.shape}")


def _free(node):
    node.freed = True
    node._saved = None
    node.__dict__.clear()


def _accumulate(t, g, create_graph, owned=False):
    """``t.grad += g``, never writing into an array another tensor may share."""
    if create_graph:
        if not isinstance(g, Tensor):
            g = Tensor._make(g)
        if g._data.dtype != t._data.dtype:
            g = g.to(t._data.dtype)
        t.grad = g if t.grad is None else t.grad + g
        return
    if isinstance(g, Tensor):
        g = g._data
    if g.dtype != t._data.dtype:
        g = g.astype(t._data.dtype)
    if t.grad is None:
        t.grad = Tensor._make(g if owned else g.copy())
    else:
        t.grad = Tensor._make(t.grad._data + g)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulate into the leaves' ``.grad`` the gradients of ``tensors``
    (``sum(tensors[i] * grad_tensors[i])``) with respect to each leaf."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors] * len(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(list(tensors), list(grad_tensors), retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    Parameters
    ----------
    outputs : Tensor or sequence of Tensors
    inputs : Tensor or sequence of Tensors (leaves or intermediate results)
    grad_outputs : the vector in the vector-Jacobian product (ones for scalars)
    create_graph : build a graph of the gradient, for higher-order derivatives
    allow_unused : return ``None`` for an input the outputs do not depend on
        (otherwise that is an error)

    Example: a Hessian-vector product of f(x) = sum(x^3), H = diag(6x)

    >>> x = shendu.tensor([1.0, 2.0], requires_grad=True)
    >>> g, = shendu.autograd.grad((x ** 3).sum(), x, create_graph=True)
    >>> hv, = shendu.autograd.grad(g, x, grad_outputs=shendu.ones(2))
    >>> hv
    tensor([ 6., 12.])
    """
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad")
    capture = {id(t): None for t in inputs}
    run_backward(outputs, list(grad_outputs), retain_graph, create_graph, capture)
    result = []
    for i, t in enumerate(inputs):
        g = capture[id(t)]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"autograd.grad: input {i} (shape {t.shape}) was not used to compute "
                    "the outputs; pass allow_unused=True to get None for it")
            result.append(None)
        else:
            result.append(g if isinstance(g, Tensor) else Tensor._make(g))
    return tuple(result)

