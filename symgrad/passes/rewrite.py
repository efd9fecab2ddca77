"""The rewrite driver: one sweep over a topological listing, each node rebuilt from its rewritten
inputs and rewritten by a rule table until no rule applies. Iterative, with a loop guard."""

from __future__ import annotations

from ..errors import SymgradError
from ..ir import intern

REWRITES_PER_NODE = 16  # loop guard: a rule table that keeps firing longer than this is a bug


def rewrite(order, outputs, rules: dict, generic: tuple = (), commutative: dict | None = None
            ) -> list:
    """The rewritten ``outputs``, given ``order``, a topological listing of their ancestors.

    ``rules`` maps an op name to rules ``node -> node | None``, and ``generic`` rules are tried
    on every node before those; the first replacement with the node's shape and dtype wins and
    is itself rewritten, so rules may build new nodes freely. ``commutative`` maps an op name to a predicate
    ``(a, b) -> bool`` allowing its two operands to be swapped: operands are then put in the
    order their rewritten nodes were settled, so ``a*b`` and ``b*a`` become one node.
    Structurally equal results are one node by interning, so subexpressions merge across the
    whole graph.
    """
    commutative = commutative or {}
    plans: dict = {}     # op -> (swap predicate, its rules)
    final: dict = {}     # node -> its rewritten node (which maps to itself)
    rank: dict = {}      # rewritten node -> settling order: the canonical operand order
    budget = [REWRITES_PER_NODE * (len(order) + 1)]

    def step(node):
        """Rewrite ``node``, whose inputs are settled: settle it, or return its replacement."""
        inputs = node.inputs
        new_inputs = tuple([final[x] for x in inputs])
        changed = new_inputs != inputs          # tuples of nodes compare by identity
        op = node.op
        plan = plans.get(op)
        if plan is None:
            plan = plans[op] = (commutative.get(op.name), generic + rules.get(op.name, ()))
        swap = plan[0]
        if swap is not None:
            a, b = new_inputs
            if rank[b] < rank[a] and swap(a, b):
                new_inputs, changed = (b, a), True
        if changed:
            new = intern(op, new_inputs, node.params)
            if new in final:                    # merged with a node settled before
                final[node] = final[new]
                return None
        else:
            new = node
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
        rank[new] = len(rank)
        return None

    for node in order:
        if node not in final:
            out = step(node)
            if out is not None:
                _settle_replacement(node, out, step, final, budget)
    return [final[out] for out in outputs]


def _settle_replacement(node, replacement, step, final: dict, budget: list) -> None:
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
