"""Forward mode and Hessian-vector products, built from reverse mode alone.

``jvp`` uses the transpose of the linear VJP graph (the "double-VJP" trick): with a fresh
cotangent input u of f's shape, g(u) = VJP(f; u) = Jᵀu is linear in u, so
d/du ⟨g(u), t⟩ = J·t. Both steps are ordinary ``build_grad`` sweeps, so every op gets forward
mode from its bprop record alone (no per-op JVP rule to keep in step), and the result holds
f's nodes plus one reverse sweep over the u-dependent part of g: linear in the size of f.
Finally u is replaced by zeros (``substitute``) so it is never an input of the result.
"""

from __future__ import annotations

from typing import Sequence

from ..errors import GradientError, ShapeError
from ..ir import Graph, Node, intern, toposort
from ..ir.types import is_float
from ..ops._define import VAR, apply, lift
from ..ops.arith import add, mul
from ..ops.reduce import sum_
from .backprop import (as_single_output, build_grad, fit_to, inputs_with, paused_gc,
                       resolve_wrt, scalar_output, seed_of, zeros_like)

COTANGENT = "jvp#u"   # not an identifier, so no user input (sg.var) can have this name


@paused_gc()
def jvp(f, wrt: Sequence, tangents: Sequence) -> Graph:
    """Forward mode: a Graph whose one output is J·t, the derivative of f (any shape) at its
    inputs along ``tangents`` (one per ``wrt`` entry, of that entry's shape: arrays, which
    become constants, or nodes, which become part of the graph).

    >>> import symgrad as sg
    >>> x = sg.var("x", shape=(2,))
    >>> J_t = sg.jvp(x * x, [x], [[1.0, 0.0]])
    >>> sg.evaluate(J_t, {"x": [3.0, 4.0]})[0].tolist()
    [6.0, 0.0]
    """
    graph = as_single_output(f, "jvp")
    targets = resolve_wrt(graph, wrt)
    vectors = seeds_for(targets, tangents, "jvp", "tangents")
    out = pushforward(graph.outputs[0], targets, vectors)
    return Graph(out, inputs_of(graph, targets, vectors))


@paused_gc()
def hvp(f, wrt: Sequence, vectors: Sequence) -> Graph:
    """Hessian-vector product H·v of a scalar f: one output per ``wrt`` entry, of its shape.

    Forward-over-reverse computes J_∇f·v; since H is symmetric that is ∇⟨∇f, v⟩, which is
    what is built (two reverse sweeps, no Hessian formed, no cotangent to substitute).

    >>> import symgrad as sg
    >>> x, y = sg.var("x"), sg.var("y")
    >>> Hv = sg.hvp(x * x * y, [x, y], [1.0, 0.0])
    >>> [float(v) for v in sg.evaluate(Hv, {"x": 3.0, "y": 2.0})]
    [4.0, 6.0]
    """
    graph, z = scalar_output(f, "hvp", "jvp of a gradient")
    targets = resolve_wrt(graph, wrt)
    seeds = seeds_for(targets, vectors, "hvp", "vectors")
    products = hvp_table(z, targets, seeds, build_grad(z, seed_of(z, None), targets))
    outputs = [products.get(w) if products.get(w) is not None else zeros_like(w)
               for w in targets]
    return Graph(outputs, inputs_of(graph, targets, seeds))


def hvp_table(z: Node, targets: list, seeds: list, grads: dict) -> dict:
    """{target: (H·v) block} for the targets H·v reaches; ``grads`` is the grad table of z."""
    inner = inner_product([grads.get(w) for w in targets], seeds)
    return build_grad(inner, seed_of(inner, None), targets) if inner is not None else {}


def pushforward(z: Node, targets: list, seeds: list) -> Node:
    """J·t as a node of z's shape, by transposing the VJP (see the module docstring)."""
    if not is_float(z.dtype):
        raise GradientError(f"jvp: the output has dtype {z.dtype}, which is not differentiable")
    u = intern(VAR, (), (("name", COTANGENT), ("shape", z.shape), ("dtype", z.dtype)))
    vjp = build_grad(z, fit_to(u, z), targets)
    inner = inner_product([vjp.get(w) for w in targets], seeds)
    if inner is None:
        return zeros_like(z)
    result = build_grad(inner, seed_of(inner, None), [u]).get(u)
    if result is None:
        return zeros_like(z)
    return substitute(result, {u: zeros_like(u)})


def inner_product(grads: list, seeds: list) -> Node | None:
    """Σ_k ⟨grads[k], seeds[k]⟩ as a scalar node, skipping missing gradients and zero seeds."""
    total = None
    for g, s in zip(grads, seeds):
        if g is None or (s.is_const and s.params[0][1].uniform == 0):
            continue
        term = mul(g, s)
        if term.shape != ():
            term = sum_(term)
        total = term if total is None else add(total, term)
    return total


def substitute(root: Node, replace: dict) -> Node:
    """``root`` rebuilt with the nodes in ``replace`` swapped for their replacements (iterative;
    rebuilt nodes go through the ops' identities and constant folding again)."""
    order = toposort([root])
    if not any(node in replace for node in order):
        return root
    new = dict(replace)
    for node in order:
        if node in new or not node.inputs:
            continue
        inputs = tuple(new.get(p, p) for p in node.inputs)
        if any(a is not b for a, b in zip(inputs, node.inputs)):
            new[node] = apply(node.op, inputs, dict(node.params))
    return new.get(root, root)


def seeds_for(targets: list, values: Sequence, who: str, what: str) -> list:
    """One node per target: each value lifted to the target's dtype, checked for its shape."""
    if isinstance(values, Node) or not isinstance(values, (list, tuple)):
        values = [values] if len(targets) == 1 else values
    values = list(values)
    if len(values) != len(targets):
        raise ShapeError(f"{who}: got {len(values)} {what} for {len(targets)} wrt entries; give "
                         f"one per entry")
    seeds = []
    for w, value in zip(targets, values):
        seed = lift(value, w.dtype)
        if not isinstance(value, Node) and seed.dtype != w.dtype:
            seed = lift(seed.value.astype(w.dtype), w.dtype)
        if seed.shape != w.shape:
            raise ShapeError(f"{who}: the {what[:-1]} for {w.name or 'a wrt node'} has shape "
                             f"{seed.shape} but that entry has shape {w.shape}; they must be equal")
        seeds.append(seed)
    return seeds


def inputs_of(graph: Graph, targets: list, seeds: list) -> tuple:
    """f's inputs, then unused wrt inputs, then inputs that symbolic seeds bring."""
    inputs = inputs_with(graph, targets)
    extra = [v for s in seeds if not s.is_const for v in Graph(s).inputs if v not in inputs]
    return inputs + tuple(dict.fromkeys(extra))
