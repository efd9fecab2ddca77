"""Export to JAX: a graph becomes a pure function of ``jax.numpy`` arrays.

Each op brings its own translation (``OpDef.jax``, or the ``jax.numpy`` ufunc of the same name
as its numpy forward), so the exported function is made of ``jax.numpy``/``jax.lax`` calls
only and ``jax.jit``, ``jax.vmap``, ``jax.grad``, devices and sharding apply to it. jax is an
optional extra: it is imported when ``to_jax`` is called, never by ``import symgrad``.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import BackendError, InputError, SymgradError
from ..ir import Graph, Node, toposort

INSTALL = 'pip install "symgrad[jax]"'


def _import_jax():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise BackendError(f"sg.to_jax needs jax, which is not installed; install it with "
                           f"{INSTALL}") from None
    return jax, jnp


def translation(op, jnp):
    """The ``jax.numpy`` form of ``op``: ``(*arrays, **params) -> array``."""
    if op.jax is not None:
        return lambda *args, **params: op.jax(jnp, *args, **params)
    if isinstance(op.forward, np.ufunc) and hasattr(jnp, op.forward.__name__):
        return getattr(jnp, op.forward.__name__)
    raise BackendError(f"op {op.name!r} has no JAX translation; give its define_op record a "
                       f"jax= rule")


def to_jax(graph):
    """A function ``fn(**inputs) -> list`` of jax arrays computing ``graph``'s outputs.

    Inputs are passed by name; every output has the dtype and shape the graph declares
    (float64 and int64 need ``jax.config.update("jax_enable_x64", True)``; without it JAX
    computes in 32 bits and a warning says so). The function is pure, so
    ``jax.jit(fn)``, ``jax.vmap(fn)`` and ``jax.grad`` of a scalar output apply.

    >>> import symgrad as sg
    >>> x = sg.var("x")
    >>> fn = sg.to_jax(sg.gradients(sg.sin(x) * x, ["x"]))      # doctest: +SKIP
    >>> float(fn(x=0.5)[0])                                     # doctest: +SKIP
    0.918...
    """
    if isinstance(graph, Node):
        graph = Graph(graph)
    if not isinstance(graph, Graph):
        raise SymgradError(f"sg.to_jax expects a Graph, got {type(graph).__name__}")
    jax, jnp = _import_jax()
    nodes = toposort(graph.outputs)
    slot = {node: k for k, node in enumerate(nodes)}
    steps = []                               # (slot, kind, payload, input slots, params, dtype)
    for k, node in enumerate(nodes):
        if node.is_input:
            steps.append((k, "input", node, (), None, node.dtype))
        elif node.is_const:
            steps.append((k, "const", node.value, (), None, node.dtype))
        else:
            steps.append((k, "op", translation(node.op, jnp),
                          tuple(slot[p] for p in node.inputs), dict(node.params), node.dtype))
    names = [v.name for v in graph.inputs]
    outputs = [slot[o] for o in graph.outputs]
    wide = any(n.dtype in ("float64", "int64") for n in nodes)

    def fn(**inputs):
        if wide and not jax.config.read("jax_enable_x64"):
            warnings.warn("this graph has float64/int64 values but jax_enable_x64 is off, so "
                          "JAX computes them in 32 bits; enable it with "
                          "jax.config.update('jax_enable_x64', True)", stacklevel=2)
        unknown = sorted(set(inputs) - set(names))
        missing = [n for n in names if n not in inputs]
        if unknown or missing:
            raise InputError(f"sg.to_jax function: missing input(s) {missing}, unknown "
                             f"input(s) {unknown}; its inputs are {names}")
        regs = [None] * len(nodes)
        for k, kind, payload, args, params, dtype in steps:
            if kind == "input":
                value = jnp.asarray(inputs[payload.name], dtype=dtype)
                if value.shape != payload.shape:
                    raise InputError(f"input {payload.name!r}: expected shape {payload.shape}, "
                                     f"got {value.shape}")
            elif kind == "const":
                value = jnp.asarray(payload)
            else:
                value = payload(*(regs[a] for a in args), **params)
                if value.dtype != dtype:
                    value = value.astype(dtype)
            regs[k] = value
        return [regs[k] for k in outputs]

    fn.__name__ = "symgrad_graph"
    fn.__doc__ = f"symgrad graph of {len(nodes)} nodes; inputs {', '.join(names) or 'none'}"
    return fn
