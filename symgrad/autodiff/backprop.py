"""gradients(): symbol-to-symbol reverse mode, Algorithms 5 and 6 of the seeds, iteratively.

Algorithm 5 (outer skeleton)  -> ``gradients`` and ``prune``:
    G' = nodes that are ancestors of z and descendants of the targets T (through edges that
    carry a gradient); run build_grad; return the grad table restricted to T.
Algorithm 6 (build_grad)      -> ``build_grad``:
    for V in G' in reverse topological order (so every consumer C of V is done before V):
        for C in get_consumers(V, G'):  D = grad_table[C];  G_i = C.op.bprop(inputs(C), V, D)
        grad_table[V] = sum_i G_i       (the sum and its terms are new graph nodes; a term -y
                                         is summed as a subtraction, the same IEEE value)
The recursion of the seeds' build_grad is replaced by the reverse topological loop: when the
loop reaches V, every grad_table[C] it needs is already there. No number is computed.
"""

from __future__ import annotations

from typing import Sequence

from ..errors import GradientError, ShapeError, SymgradError
from ..ir import Graph, Node, paused_gc, toposort
from ..ir.types import FLOAT_DTYPES, is_float
from ..ops.arith import add, neg, sub
from ..ops.elementwise import cast, where
from ..ops.shape import broadcast_to, sum_to
from ..ops._define import const, is_value, lift


@paused_gc()
def gradients(f, wrt: Sequence, grad_output=None, disconnected: str = "zero") -> Graph:
    """Derivative graph B of f with respect to each node or input name in ``wrt``.

    ``B.outputs[k]`` is df/dwrt[k] with the shape and dtype of ``wrt[k]``; B holds f's nodes
    plus the appended derivative nodes. ``grad_output`` (f's shape) gives the vector-Jacobian
    product for non-scalar f. A ``wrt`` that f does not depend on differentiably gets zeros
    (``disconnected="zero"``) or raises GradientError (``disconnected="raise"``).

    >>> import symgrad as sg
    >>> x, y = sg.var("x"), sg.var("y")
    >>> B = sg.gradients(x * y + sg.sin(x), ["x", "y"])
    >>> [float(v) for v in sg.evaluate(B, {"x": 0.0, "y": 2.0})]
    [3.0, 0.0]
    """
    graph = as_single_output(f, "gradients")
    z = graph.outputs[0]
    targets = resolve_wrt(graph, wrt)
    if not targets:
        raise GradientError("gradients: wrt is empty; name at least one input or node")
    if disconnected not in ("zero", "raise"):
        raise SymgradError(f"gradients: disconnected must be 'zero' or 'raise', got "
                           f"{disconnected!r}")
    order = graph.nodes if graph.forward is None else None   # toposort([z]) already known
    grad_table = build_grad(z, seed_of(z, grad_output), targets, order=order)
    outputs = []
    for w in targets:
        grad = grad_table.get(w)
        if grad is None:
            if disconnected == "raise":
                raise GradientError(f"gradients: the output does not depend on {describe(w)} "
                                    f"through any differentiable path (dependence through "
                                    f"comparisons, sign, where conditions or int inputs does "
                                    f"not count); use disconnected='zero' to get zeros")
            grad = zeros_like(w)
        outputs.append(grad)
    inputs = inputs_with(graph, targets)
    if isinstance(grad_output, Node):                 # a symbolic seed may bring new inputs
        inputs += tuple(v for v in Graph(grad_output).inputs if v not in inputs)
        return Graph(outputs, inputs, _forward=graph)    # (checked: one type per name)
    # the bprops use f's nodes, the targets and constants only: f's inputs and the targets
    # cover B's, so B is listed only if asked (``gradients(...).outputs`` never pays for it)
    return Graph._appended(tuple(outputs), inputs, graph)


def inputs_with(graph: Graph, targets) -> tuple:
    """The graph's inputs followed by the input targets it does not use."""
    extra = [w for w in targets if w.is_input and w not in graph.inputs]
    return graph.inputs + tuple(dict.fromkeys(extra))


def build_grad(z: Node, seed: Node, targets: Sequence[Node], observer=None,
               order: Sequence[Node] | None = None) -> dict:
    """Algorithms 5 and 6: the grad table {node: gradient node} for the nodes of G'.

    ``observer`` (optional) is told each step, for ``explain``: ``pruned(G')``, then for each V
    ``contribution(V, C, position, D, G_i)`` and ``stored(V, grad)``. ``order``: the ancestors
    of z in topological order, if the caller has them.
    """
    G_prime = prune(z, targets, order)                 # Algorithm 5, step 1
    if observer is not None:
        observer.pruned(G_prime)
    consumers = get_consumers(G_prime)
    grad_table = {z: seed} if G_prime else {}
    masks: dict = {}                                  # node -> where-conditions of its gradient
    for V in reversed(G_prime[:-1]):                  # Algorithm 6 for every V, outputs first
        terms, term_masks = [], []
        for C, position in consumers[V]:
            D = grad_table.get(C)
            if D is None:                             # C's gradient is structurally zero
                continue
            rules = C.op.bprop
            rule = rules[position] if type(rules) is tuple else rules(position)
            G_i = rule(D, C, *C.inputs, **dict(C.params)) if C.params else rule(D, C, *C.inputs)
            if G_i is None:
                continue
            mask = masks.get(C, ()) if masks and C.op.elementwise else ()
            if mask or G_i.op is where:               # NaN-safe where (see nan_safe)
                G_i, mask = nan_safe(G_i, D, mask)
            if G_i.shape != V.shape or G_i.dtype != V.dtype:
                fitted = fit_to(G_i, V)
                if fitted.shape != G_i.shape:         # summed over broadcast axes: no mask
                    mask = ()
                G_i = fitted
            if observer is not None:
                observer.contribution(V, C, position, D, G_i)
            terms.append(G_i)
            term_masks.append(mask)
        if terms:
            grad = terms[0]
            for term in terms[1:]:                    # G <- sum_i G^(i)
                grad = plus(grad, term)
            grad_table[V] = grad
            if term_masks[0]:                         # the masks every term carries
                shared = tuple(m for m in term_masks[0] if all(m in t for t in term_masks))
                if shared:
                    masks[V] = shared
            if observer is not None:
                observer.stored(V, grad)
    return grad_table


def plus(a: Node, b: Node) -> Node:
    """The node a + b, written ``a - y`` when b is ``-y`` (``b - y`` when a is ``-y``): IEEE
    subtraction is the addition of the negation, so the value is the same, and ``sg.optimize``
    finds no ``x + (-y)`` to rewrite (a rewrite there rebuilds every node above it)."""
    if b.op is neg:
        return sub(a, b.inputs[0])
    if a.op is neg:
        return sub(b, a.inputs[0])
    return add(a, b)


MAX_MASKS = 4    # where-conditions remembered per gradient (the innermost ones)


def nan_safe(contribution: Node, D: Node, mask: tuple) -> tuple:
    """NaN-safe ``where`` (API §9): a contribution kept exactly zero where its op's gradient D
    is known to be zero, and the where-conditions known to zero the result.

    A ``where(c, a, b)`` bprop gives ``where(c, D, 0)`` to a: zero wherever c is false, so a's
    gradient carries the mask ``(c, True)`` (``(c, False)`` for b). An elementwise op whose
    gradient carries masks gives its inputs ``where(c, rule(...), 0)`` for each mask, instead
    of the rule's ``0 * inf = NaN`` in the branch that is not selected (``sqrt(x)``'s bprop at
    x = -1, ``log(x)``'s at 0); the result carries the masks on (if no broadcast axis is summed
    away). Each such ``where`` is an ordinary node, so higher derivatives are NaN-safe the same
    way. ``mask`` holds the masks of D, ``()`` if D's op is not elementwise. Only the
    ``MAX_MASKS`` innermost conditions are kept, so that a chain of n nested ``where`` adds
    O(n) nodes, not O(n^2).
    """
    own = zero_where(contribution)
    if own is None or contribution.inputs[1 if own[1] else 2] is not D:
        for cond, keep in mask:   # (where's own rule only routes D, so cannot make a NaN)
            contribution = where(cond, contribution, 0) if keep else where(cond, 0, contribution)
    if own is not None and own not in mask:
        mask = mask + (own,)
    return contribution, mask[-MAX_MASKS:]


def zero_where(node: Node):
    """``(c, True)`` for a node ``where(c, x, 0)``, ``(c, False)`` for ``where(c, 0, x)``, else
    None: the condition under which ``node`` may be non-zero."""
    if node.op is not where:
        return None
    cond, a, b = node.inputs
    if is_value(b, 0):
        return cond, True
    if is_value(a, 0):
        return cond, False
    return None


def prune(z: Node, targets: Sequence[Node], order: Sequence[Node] | None = None) -> list:
    """G': the ancestors of z that are descendants of a target along differentiable edges, in
    topological order (z last when z is reachable). Cost: the ancestors of z, once each."""
    if order is None:
        order = toposort([z])
    reached = {t for t in targets if is_float(t.dtype)}
    G_prime = []
    for node in order:
        if node not in reached:
            if node.dtype not in FLOAT_DTYPES:
                continue
            rule = node.op.rule
            for position, parent in enumerate(node.inputs):
                if parent in reached and rule(position) is not None:
                    break
            else:
                continue
            reached.add(node)
        G_prime.append(node)
    if not G_prime or G_prime[-1] is not z:
        return []
    return G_prime


def get_consumers(G_prime: list) -> dict:
    """get_consumers(V, G') of the seeds for every V: the (consumer, input position) pairs."""
    table = {V: [] for V in G_prime}
    pairs_of = table.get
    for C in G_prime:
        rule = C.op.rule
        for position, V in enumerate(C.inputs):
            pairs = pairs_of(V)
            if pairs is not None and rule(position) is not None:
                pairs.append((C, position))
    return table


def fit_to(grad: Node, V: Node) -> Node:
    """A contribution brought to V's shape (summing broadcast axes) and V's dtype."""
    if grad.shape != V.shape:
        grad = sum_to(grad, V.shape)
    if grad.dtype != V.dtype:
        grad = cast(grad, dtype=V.dtype)
    return grad


def zeros(shape: tuple, dtype: str) -> Node:
    """Zeros as a broadcast scalar: no array is stored in the graph."""
    return broadcast_to(const(0, dtype=dtype), shape)


def zeros_like(w: Node) -> Node:
    return zeros(w.shape, w.dtype)


def seed_of(z: Node, grad_output) -> Node:
    """dz/dz = 1 for a scalar z, or the given grad_output (which must have z's shape)."""
    if not is_float(z.dtype):
        raise GradientError(f"gradients: the output has dtype {z.dtype}, which is not "
                            f"differentiable")
    if grad_output is None:
        if z.shape != ():
            raise GradientError(f"gradients: the output has shape {z.shape}, not a scalar; pass "
                                f"grad_output= (an array of that shape) for a vector-Jacobian "
                                f"product, or use sg.jacobian")
        return const(1, dtype=z.dtype)
    seed = lift(grad_output, z.dtype)
    if not isinstance(grad_output, Node) and seed.dtype != z.dtype:
        seed = const(seed.value, dtype=z.dtype)
    if seed.shape != z.shape:
        raise ShapeError(f"gradients: grad_output has shape {seed.shape} but the output has shape "
                         f"{z.shape}; they must be equal")
    return fit_to(seed, z)


def as_single_output(f, who: str) -> Graph:
    if isinstance(f, Node):
        return Graph(f)
    if not isinstance(f, Graph):
        raise SymgradError(f"{who}: f must be a Graph or a node, got {type(f).__name__}")
    if len(f.outputs) != 1:
        raise GradientError(f"{who}: the graph has {len(f.outputs)} outputs; select one with "
                            f"G[i]")
    return f


def scalar_output(f, who: str, instead: str) -> tuple:
    """(graph, its output) of an ``f`` that must be scalar; ``instead`` names what to use for
    vector functions in the error."""
    graph = as_single_output(f, who)
    z = graph.outputs[0]
    if z.shape != ():
        raise GradientError(f"{who}: f must be a scalar, got shape {z.shape}; use {instead} for "
                            f"vector functions")
    return graph, z


def resolve_wrt(graph: Graph, wrt) -> list:
    """Nodes for the entries of ``wrt`` (nodes, or names of the graph's inputs)."""
    if isinstance(wrt, (str, Node)):
        wrt = [wrt]
    try:
        wrt = list(wrt)
    except TypeError:
        raise GradientError(f"gradients: wrt must be an input name, a node, or a list of them, "
                            f"got {type(wrt).__name__} ({wrt!r})") from None
    by_name = {v.name: v for v in graph.inputs}
    targets = []
    for w in wrt:
        if isinstance(w, str):
            if w not in by_name:
                known = ", ".join(by_name) or "none"
                raise GradientError(f"gradients: {w!r} is not an input of f (its inputs: {known})")
            w = by_name[w]
        elif not isinstance(w, Node):
            raise GradientError(f"gradients: wrt entries must be nodes or input names, got {w!r}")
        if not is_float(w.dtype):
            raise GradientError(f"gradients: cannot differentiate with respect to {describe(w)} "
                                f"of dtype {w.dtype}; only float inputs are differentiable")
        targets.append(w)
    return targets


def describe(w: Node) -> str:
    return f"input {w.name!r}" if w.is_input else f"node {w!r}"
