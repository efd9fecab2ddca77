"""explain(): Algorithm 6 narrated step by step, with each bprop contribution as a formula."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ..errors import InputError, SymgradError
from ..ir import Graph, Node, toposort
from .backprop import as_single_output, build_grad, get_consumers, resolve_wrt, seed_of

MAX_SHOWN_TERMS = 120  # formulas with more operations than this are shown as "(large)"


def explain(f, wrt: Sequence, at: Mapping | None = None) -> "Explanation":
    """Run backprop on f and narrate it: G' after pruning, then for every node V (outputs
    first) its consumers, each bprop contribution and the sum stored in the grad table.

    Forward nodes are named ``u1, u2, ...`` (inputs keep their names) and ``grad[u]`` stands
    for ``grad_table[u]``; with ``at`` (input name -> value) every line also shows its value.

    >>> import symgrad as sg
    >>> x, y, z = sg.var("x"), sg.var("y"), sg.var("z")
    >>> trace = sg.explain((x + y) * sg.maximum(y, z), ["x", "y", "z"], at={"x": 1, "y": 2,
    ...                                                                      "z": 0})
    >>> for line in str(trace).splitlines()[-3:]:
    ...     print(line)
      df/dx = Max(y, z) = 2
      df/dy = (x + y)*Piecewise((1, y > z), (Piecewise((0, y < z), (1/2, True)), True)) + Max(y, z) = 5
      df/dz = (x + y)*Piecewise((1, y < z), (Piecewise((0, y > z), (1/2, True)), True)) = 0
    """
    graph = as_single_output(f, "explain")
    z = graph.outputs[0]
    targets = resolve_wrt(graph, wrt)
    recorder = _Recorder()
    grad_table = build_grad(z, seed_of(z, None), targets, observer=recorder)
    return Explanation(graph, targets, recorder, grad_table, at)


class _Recorder:
    """The observer handed to build_grad: keeps every event in order."""

    def __init__(self):
        self.G_prime: list = []
        self.contributions: dict = {}  # V -> [(C, position, D, G_i)]
        self.sums: dict = {}           # V -> grad node stored in the table

    def pruned(self, G_prime):
        self.G_prime = list(G_prime)

    def contribution(self, V, C, position, D, G_i):
        self.contributions.setdefault(V, []).append((C, position, D, G_i))

    def stored(self, V, grad):
        self.sums[V] = grad


class Explanation:
    """The printable trace returned by ``explain``; ``str()`` gives the narration.

    Attributes: ``graph`` (f), ``wrt`` (target nodes), ``G_prime`` (pruned nodes in
    topological order), ``grad_table`` (node -> gradient node), ``values`` (node -> array,
    or None without ``at``), ``names`` (forward node -> display name), ``formulas`` (target
    -> sympy formula of df/dtarget in terms of the inputs).
    """

    def __init__(self, graph: Graph, targets: list, recorder: _Recorder, grad_table: dict,
                 at: Mapping | None):
        import sympy  # imported here so that `import symgrad` stays light

        self.graph, self.wrt, self.grad_table = graph, targets, grad_table
        self.G_prime = recorder.G_prime
        self._recorder = recorder
        self._sp = sympy
        self.names = _forward_names(graph)
        extra = [n for n in recorder.sums.values()] + [
            g for events in recorder.contributions.values() for *_, g in events]
        self.values = None if at is None else _values(graph, targets, at, extra)
        self.formulas: dict = {}  # target -> sympy formula of its gradient, in the inputs
        self.text = self._narrate()

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    # -- narration --------------------------------------------------------------------------
    def _narrate(self) -> str:
        z = self.graph.outputs[0]
        symbols = {node: self._sp.Symbol(name) for node, name in self.names.items()}
        wrt_text = ", ".join(self.names.get(w) or repr(w) for w in self.wrt)
        where = ""
        if self.values is not None:
            where = "  at " + ", ".join(f"{v.name}={_fmt(self.values[v])}"
                                        for v in self.graph.inputs if v in self.values)
        lines = [f"Backprop of f = {self.names[z]} with respect to {wrt_text}{where}", "",
                 "Forward graph G (the names used below):"]
        for node in self.graph.nodes:
            if node.is_const:
                continue
            rhs = "input" if node.is_input else str(self._formula(
                node, {p: s for p, s in symbols.items() if p is not node}))
            tag = "   <- f" if node is z else ""
            lines.append(f"  {self.names[node]} = {rhs}{self._value(node)}{tag}")
        listed = ", ".join(self.names[n] for n in self.G_prime if n in self.names)
        lines += ["", f"Algorithm 5: G' = the ancestors of f that descend from {{{wrt_text}}} "
                      f"along differentiable edges",
                  f"  G' = [{listed}]  ({len(self.G_prime)} of {len(self.graph)} nodes)"]
        if not self.G_prime:
            lines.append("  G' is empty: f does not depend on the targets; every gradient is 0")
        lines += ["", "Algorithm 6 (build_grad): each V of G' in reverse topological order"]
        known = dict(symbols)  # node -> symbol; grows with grad[...] entries as they are stored
        if self.G_prime:
            seed = self.grad_table[z]
            lines.append(f"  grad_table[{self.names[z]}] = {_fmt_node(seed)}   (the seed, "
                         f"df/df)")
            if not seed.is_const:
                known.setdefault(seed, self._sp.Symbol(f"grad[{self.names[z]}]"))
        consumers = get_consumers(self.G_prime) if self.G_prime else {}
        for V in reversed(self.G_prime[:-1]):
            lines.append("")
            users = ", ".join(f"{self.names[C]} ({C.op.name})" for C, _ in consumers[V])
            lines.append(f"  V = {self.names[V]}: consumers in G' = [{users}]")
            for C, position, D, G_i in self._recorder.contributions.get(V, []):
                d_text = (_fmt_node(D) if D.is_const
                          else f"grad[{self.names[C]}]{self._value(D)}")
                lines.append(f"    C = {self.names[C]} ({C.op.name}, input {position + 1}), "
                             f"D = {d_text}:  bprop gives {self._formula(G_i, known)}"
                             f"{self._value(G_i)}")
            grad = self._recorder.sums.get(V)
            if grad is None:
                lines.append(f"    no contribution: grad_table[{self.names[V]}] stays empty (0)")
                continue
            terms = [self._formula(G_i, known)
                     for *_, G_i in self._recorder.contributions.get(V, [])]
            total = self._sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]
            lines.append(f"    grad_table[{self.names[V]}] = {total}{self._value(grad)}")
            if not grad.is_const:
                known.setdefault(grad, self._sp.Symbol(f"grad[{self.names[V]}]"))
        lines += ["", "Result (grad_table restricted to the targets):"]
        inputs_only = {v: symbols[v] for v in self.graph.inputs}
        for w in self.wrt:
            grad = self.grad_table.get(w)
            label = f"df/d{self.names.get(w, 'w')}"
            if grad is None:
                self.formulas[w] = self._sp.Integer(0)
                lines.append(f"  {label} = 0   (not connected)")
                continue
            self.formulas[w] = self._formula(grad, inputs_only)
            lines.append(f"  {label} = {self.formulas[w]}{self._value(grad)}")
        return "\n".join(lines)

    def _formula(self, node: Node, known: dict):
        """sympy expression of ``node`` with the ``known`` nodes as symbols."""
        return formula(node, known, self._sp)

    def _value(self, node: Node) -> str:
        if self.values is None or node not in self.values:
            return ""
        return f" = {_fmt(self.values[node])}"


def formula(node: Node, known: Mapping, sp, limit: int = MAX_SHOWN_TERMS):
    """The sympy expression of ``node``, stopping at the ``known`` nodes (node -> symbol).

    Elementwise ops use their sympy rule; other ops appear as applied functions such as
    ``matmul(g, transpose(B))``. Walks iteratively; beyond ``limit`` new nodes the result is
    the symbol ``(large)``.

    >>> import sympy, symgrad as sg
    >>> from symgrad.autodiff.explain import formula
    >>> x, out = sg.var("x"), sg.var("out")
    >>> formula(x * (1 - out * out), {x: sympy.Symbol("x"), out: sympy.Symbol("out")}, sympy)
    x*(1 - out**2)
    """
    done: dict = dict(known)
    stack = [node]
    count = 0
    while stack:
        current = stack[-1]
        if current in done:
            stack.pop()
            continue
        missing = [p for p in current.inputs if p not in done]
        if missing:
            stack.extend(reversed(missing))
            continue
        stack.pop()
        count += 1
        if count > limit:
            return sp.Symbol("(large)")
        try:
            done[current] = _sympy_of(current, [done[p] for p in current.inputs], sp)
        except RecursionError:  # sympy's own recursion on a deep expression
            return sp.Symbol("(large)")
    return done[node]


def _sympy_of(node: Node, args: list, sp):
    if node.is_input:
        return sp.Symbol(node.name)
    if node.is_const:
        return _sympy_const(node, sp)
    params = dict(node.params)
    if node.op.elementwise and node.op.sympy is not None:
        return node.op.sympy(sp, *args, **params)
    extra = [sp.Symbol(f"{k}={v!r}".replace(" ", "")) for k, v in node.params]
    return sp.Function(node.op.name)(*args, *extra)


def _sympy_const(node: Node, sp):
    value = node.value
    if value.ndim == 0:
        number = value.item()
        if isinstance(number, bool):
            return sp.true if number else sp.false
        if float(number).is_integer():
            return sp.Integer(int(number))
        text = repr(float(number))
        return sp.Rational(text) if len(text) <= 6 else sp.Float(number)
    return sp.Symbol(_fmt_node(node))


def _forward_names(graph: Graph) -> dict:
    """Display names for the non-constant nodes of G: inputs by name, others u1, u2, ..."""
    taken = {v.name for v in graph.inputs}
    prefix = next(p for p in ("u", "v", "t", "node_") if not any(
        name.startswith(p) and name[len(p):].isdigit() for name in taken))
    names, count = {}, 0
    for node in graph.nodes:
        if node.is_input:
            names[node] = node.name
        elif not node.is_const:
            count += 1
            names[node] = f"{prefix}{count}"
    return names


def _values(graph: Graph, targets: list, at: Mapping, extra: list) -> dict:
    """The value of every forward node and of the ``extra`` (derivative) nodes at ``at``."""
    try:
        given = {(k.name if isinstance(k, Node) else k): v for k, v in at.items()}
    except AttributeError:
        raise InputError(f"explain: at= must map input names to values, got {at!r}") from None
    inputs = {v.name: v for v in graph.inputs}
    for w in targets:
        if w.is_input:
            inputs.setdefault(w.name, w)
    unknown = [k for k in given if k not in inputs]
    missing = [k for k in inputs if k not in given]
    if unknown or missing:
        raise InputError(f"explain: at= must give exactly the inputs {', '.join(inputs)}; "
                         f"unknown: {', '.join(unknown) or 'none'}, missing: "
                         f"{', '.join(missing) or 'none'}")
    values = {}
    for name, node in inputs.items():
        try:
            array = np.asarray(given[name], dtype=node.dtype)
        except (TypeError, ValueError):
            raise InputError(f"explain: input {name!r} got {given[name]!r}, which is not a "
                             f"number") from None
        if array.shape != node.shape:
            raise InputError(f"explain: input {name!r} needs shape {node.shape}, got "
                             f"{array.shape}")
        values[node] = array
    with np.errstate(all="ignore"):
        for node in toposort([*graph.outputs, *extra]):
            if node in values:
                continue
            if node.is_const:
                values[node] = node.value
            elif node.is_input:
                raise SymgradError(f"explain: no value for input {node.name!r}")
            else:
                args = [values[p] for p in node.inputs]
                values[node] = np.asarray(node.op.forward(*args, **dict(node.params)))
    return values


def _fmt(value) -> str:
    array = np.asarray(value)
    if array.ndim == 0:
        number = array.item()
        if isinstance(number, bool):
            return str(number)
        return f"{number:.6g}"
    return np.array2string(array, precision=4, separator=", ", threshold=20)


def _fmt_node(node: Node) -> str:
    if node.is_const:
        return _fmt(node.value)
    return repr(node)
