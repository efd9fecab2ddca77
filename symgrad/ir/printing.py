"""Readable, deterministic SSA listing of a graph: ``%i = op %a %b params : dtype shape``."""

from __future__ import annotations


def node_label(node) -> str:
    """Short label of one node: the input name, the constant, or the op with its params."""
    if node.is_input:
        return node.name
    if node.is_const:
        return _const_text(node)
    params = " ".join(f"{k}={v!r}" for k, v in node.params)
    return f"{node.op.name} {params}" if params else node.op.name


def _const_text(node) -> str:
    value = node.value
    if value.ndim == 0:
        return repr(value.item())
    if value.size <= 6:
        return repr(value.tolist())
    return f"array{value.shape}"


def type_text(node) -> str:
    return f"{node.dtype}{list(node.shape)}"


def format_graph(graph) -> str:
    index = {node: i for i, node in enumerate(graph.nodes)}
    names = ", ".join(f"{v.name}: {type_text(v)}" for v in graph.inputs)
    lines = [f"graph({names}):"]
    width = len(f"%{len(graph.nodes) - 1}") if graph.nodes else 2
    for i, node in enumerate(graph.nodes):
        target = f"%{i}".rjust(width)
        if node.is_input:
            rhs = f"input {node.name}"
        elif node.is_const:
            rhs = f"const {_const_text(node)}"
        else:
            args = " ".join(f"%{index[p]}" for p in node.inputs)
            params = "".join(f" {k}={v!r}" for k, v in node.params)
            rhs = f"{node.op.name} {args}{params}"
        lines.append(f"  {target} = {rhs} : {type_text(node)}")
    outs = ", ".join(f"%{index[o]}" for o in graph.outputs)
    lines.append(f"  return {outs}")
    return "\n".join(lines)
