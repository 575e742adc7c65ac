"""``graph_to_dot``: the computational graph of a result as Graphviz DOT text.

The course draws graphs like this one; paste the text into any Graphviz viewer
(or ``dot -Tpng``) to see it. No dependency is needed to make the text.
"""
from __future__ import annotations

from .tensor import Tensor


def _label(t, name=None):
    shape = "x".join(str(s) for s in t.shape) or "scalar"
    return f"{name + chr(10) if name else ''}{shape} {t.dtype}"


def graph_to_dot(tensor, names=None):
    """DOT text of the graph that produced ``tensor``.

    Leaves (inputs, parameters) are boxes, ops are ellipses named after their
    Function, the result is a double box. ``names`` maps tensors to labels
    (``{id(w): "w"}`` or ``{"w": w}``).

    >>> x = shendu.tensor([1.0], requires_grad=True)
    >>> print(graph_to_dot((x * 2).exp()).splitlines()[0])
    digraph shendu {
    """
    labels = {}
    for k, v in (names or {}).items():
        if isinstance(k, str):
            labels[id(v)] = k
        else:
            labels[k] = v
    lines = ["digraph shendu {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    seen_nodes, seen_leaves = set(), set()
    lines.append(f'  t{id(tensor)} [label="{_label(tensor, labels.get(id(tensor)))}", '
                 'shape=box, peripheries=2];')
    if tensor._node is not None:
        lines.append(f"  n{id(tensor._node)} -> t{id(tensor)};")
    stack = [tensor._node] if tensor._node is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        lines.append(f'  n{id(node)} [label="{node.fn.__name__}", shape=ellipse];')
        for t in node.inputs:
            if t is None:
                continue
            if t._node is None:
                if id(t) not in seen_leaves:
                    seen_leaves.add(id(t))
                    style = "filled, fillcolor=lightblue" if t.requires_grad else "dashed"
                    lines.append(f'  t{id(t)} [label="{_label(t, labels.get(id(t)))}", '
                                 f'shape=box, style="{style}"];')
                lines.append(f"  t{id(t)} -> n{id(node)};")
            else:
                lines.append(f"  n{id(t._node)} -> n{id(node)};")
                stack.append(t._node)
    lines.append("}")
    return "\n".join(lines) + "\n"


__all__ = ["graph_to_dot", "Tensor"]
