"""The rewrite driver: one sweep over a topological listing, each node rebuilt from its rewritten
inputs and rewritten by a rule table until no rule applies. Iterative, with a loop guard."""

from __future__ import annotations

from typing import Callable

from ..errors import SymgradError
from ..ir import intern

REWRITES_PER_NODE = 16  # loop guard: a rule table that keeps firing longer than this is a bug


def rewrite(order, outputs, rules_for: Callable, commutative: dict | None = None) -> list:
    """The rewritten ``outputs``, given ``order``, a topological listing of their ancestors.

    ``rules_for(op)`` gives the rules ``node -> node | None`` for an op's nodes (asked once per
    op); the first replacement with the node's shape and dtype wins and is itself rewritten, so
    rules may build new nodes freely. Structurally equal results are one node by interning,
    so subexpressions merge across the whole graph. ``commutative`` maps
    an op name to a predicate ``(a, b) -> bool`` saying when ``op(a, b)`` equals ``op(b, a)``;
    such a pair then merges into the one settled first. (Merging, rather than sorting every
    operand pair, leaves the nodes that merge with nothing as they were, so a large graph
    with little to rewrite is not rebuilt node by node.)
    """
    commutative = commutative or {}
    plans: dict = {}     # op -> (commutativity predicate, its rules, its settled nodes by operands)
    final: dict = {}     # node -> its rewritten node (which maps to itself)
    moved: set = set()   # the nodes whose rewritten node is another one
    budget = [REWRITES_PER_NODE * (len(order) + 1)]

    def step(node):
        """Rewrite ``node``, whose inputs are settled: settle it, or return its replacement."""
        inputs = new_inputs = node.inputs
        op = node.op
        plan = plans.get(op)
        if plan is None:
            plan = plans[op] = (commutative.get(op.name), tuple(rules_for(op)), {})
        if moved.isdisjoint(inputs):
            new = node
        else:
            new_inputs = tuple([final[x] for x in inputs])
            new = intern(op, new_inputs, node.params)
            if new in final:                    # merged with a node settled before
                final[node] = final[new]
                moved.add(node)
                return None
        commutes = plan[0]
        if commutes is not None:
            a, b = new_inputs
            twin = plan[2].get((b, a, new.params))
            if twin is not None and commutes(a, b):
                final[node] = final[new] = twin
                moved.add(node)
                moved.add(new)
                return None
        for rule in plan[1]:
            out = rule(new)
            if (out is not None and out is not new and out.shape == new.shape
                    and out.dtype == new.dtype):
                budget[0] -= 1
                if budget[0] < 0:
                    raise SymgradError(
                        f"optimize: the rewrite rules did not reach a fixed point (still "
                        f"rewriting a {op.name} node after {REWRITES_PER_NODE} rewrites per "
                        f"node); two rules undo each other: fix the table in "
                        f"symgrad/passes/rules.py")
                return out
        final[node] = final[new] = new
        if new is not node:
            moved.add(node)
        if commutes is not None:
            plan[2][a, b, new.params] = new
        return None

    for node in order:
        if node not in final:
            out = step(node)
            if out is not None:
                _settle_replacement(node, out, step, final, moved, budget)
    return [final[out] for out in outputs]


def _settle_replacement(node, replacement, step, final: dict, moved: set, budget: list) -> None:
    """Settle ``replacement`` (and the new nodes under it) with an explicit stack, then map
    ``node`` to its result; replacements of replacements wait in ``pending``."""
    pending = {node: replacement}
    stack = [node, replacement]
    while stack:
        node = stack[-1]
        if node in final:
            stack.pop()
            continue
        target = pending.get(node)
        if target is not None:
            if target in final:
                final[node] = final[target]
                if final[node] is not node:
                    moved.add(node)
                stack.pop()
            else:                               # a cycle of replacements exhausts the budget
                budget[0] -= 1
                if budget[0] < 0:
                    raise SymgradError("optimize: the rewrite rules replace nodes in a cycle; "
                                       "fix the table in symgrad/passes/rules.py")
                stack.append(target)
            continue
        missing = [x for x in node.inputs if x not in final]
        if missing:
            stack.extend(missing)
            continue
        out = step(node)
        if out is not None:
            pending[node] = out
            stack.append(out)
