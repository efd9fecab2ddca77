"""The rewrite driver: one sweep over a topological listing, each node rebuilt from its rewritten
inputs and rewritten by a rule table until no rule applies. Iterative, with a loop guard."""

from __future__ import annotations

import zlib
from typing import Callable

from ..errors import SymgradError
from ..ir import intern

REWRITES_PER_NODE = 16  # loop guard: a rule table that keeps firing longer than this is a bug


def rewrite(order, outputs, rules_for: Callable, commutative: dict | None = None, *,
            canonical: bool = False) -> list:
    """The rewritten ``outputs``, given ``order``, a topological listing of their ancestors.

    ``rules_for(op)`` gives the rules ``node -> node | None`` for an op's nodes (asked once per
    op); the first replacement with the node's shape and dtype wins and is itself rewritten, so
    rules may build new nodes freely. A rule with a ``needs`` attribute (a set of op names) is
    only tried on nodes with an input made by one of those ops. Structurally equal results are
    one node by interning, so subexpressions merge across the whole graph. ``commutative``
    maps an op name to a predicate ``(a, b) -> bool`` saying when ``op(a, b)`` equals
    ``op(b, a)``.

    Without ``canonical``, such a commuted pair merges into the one settled first and other
    nodes keep their operand order. With ``canonical``, every settled node gets a structural
    key, a hash of its op, params and its inputs' keys (in sorted order where the op commutes),
    which does not depend on the order the graph was built in, and commuting operands are
    swapped into increasing key order: graphs that differ only in the order of commuting
    operands give the same nodes (barring a 64-bit hash collision). A swap rebuilds every node
    that depends on it, so on a deep graph built in another order this rebuilds most nodes.

    A node whose inputs did not change and where no rule fires is kept as it is; the others are
    rebuilt with the node's shape and dtype (rules keep both), without inferring them again.
    """
    commutative = commutative or {}
    plans: dict = {}     # op -> _Plan
    final: dict = {}     # node -> its rewritten node (which maps to itself)
    moved: set = set()   # the nodes whose rewritten node is another one
    keys: dict = {}      # with ``canonical``: settled node -> structural key
    param_keys: dict = {}  # (op, params) -> the key of the op with those params
    budget = [REWRITES_PER_NODE * (len(order) + 1)]

    def plan_of(op) -> "_Plan":
        plan = plans[op] = _Plan(op, rules_for(op), commutative.get(op.name))
        return plan

    def key_of(node, plan, inputs, commutes: bool) -> int:
        if not inputs:
            return _leaf_key(node)
        op_key = plan.key
        if node.params:
            op_key = param_keys.get((node.op, node.params))
            if op_key is None:
                op_key = param_keys[node.op, node.params] = zlib.crc32(
                    repr(node.params).encode(), plan.key)
        parts = [keys[x] for x in inputs]
        if commutes:
            parts.sort()
        return hash((op_key, *parts))

    def step(node):
        """Rewrite ``node``, whose inputs are settled: settle it, or return its replacement."""
        op = node.op
        plan = plans.get(op) or plan_of(op)
        inputs = node.inputs
        changed = not moved.isdisjoint(inputs)
        if changed:
            inputs = tuple([final[x] for x in inputs])
        commutes = plan.commutes
        if commutes is not None:
            a, b = inputs
            commutes = commutes(a, b)
            if not commutes:
                pass
            elif canonical:
                if keys[a] > keys[b]:
                    inputs, changed = (b, a), True
            else:
                twin = plan.twins.get((b, a, node.params))
                if twin is not None:            # the commuted twin, settled before
                    final[node] = twin
                    moved.add(node)
                    return None
        if changed:
            new = intern(op, inputs, node.params, node)
            done = final.get(new)
            if done is not None:                # merged with a node settled before
                final[node] = done
                moved.add(node)
                return None
        else:
            new = node
        rules = plan.always
        if plan.guarded:
            for x in inputs:
                if x.op.name in plan.triggers:
                    rules = plan.rules
                    break
        for rule in rules:
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
        final[new] = new
        if changed:
            final[node] = new
            moved.add(node)
        if canonical:
            keys[new] = key_of(new, plan, inputs, commutes)
        elif commutes:
            plan.twins[inputs[0], inputs[1], new.params] = new
        return None

    for node in order:
        if node not in final:
            out = step(node)
            if out is not None:
                _settle_replacement(node, out, step, final, moved, budget)
    return [final[out] for out in outputs]


class _Plan:
    """What the driver needs to know about one op: its rules, split into those tried on every
    node and those with a ``needs`` guard, its commutativity predicate, and its key."""

    __slots__ = ("always", "rules", "guarded", "triggers", "commutes", "key", "twins")

    def __init__(self, op, rules, commutes):
        self.rules = tuple(rules)
        self.always = tuple(rule for rule in self.rules if getattr(rule, "needs", None) is None)
        self.guarded = len(self.always) < len(self.rules)
        self.triggers = frozenset(name for rule in self.rules
                                  for name in getattr(rule, "needs", None) or ())
        self.commutes = commutes
        self.key = zlib.crc32(op.name.encode())
        self.twins: dict = {}    # without ``canonical``: (a, b, params) -> settled op(a, b)


def _leaf_key(node) -> int:
    """A key for a node without inputs that is the same in every process (``hash`` of a string
    is not): a checksum of its op, params, and a constant's bytes."""
    if node.is_const:
        value = node.value
        return zlib.crc32(value.tobytes(), zlib.crc32(repr((value.dtype.str, value.shape))
                                                      .encode()))
    return zlib.crc32(repr((node.op.name, node.params)).encode())


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
