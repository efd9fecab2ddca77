"""The rewrite driver: one sweep over a topological listing, each node rebuilt from its rewritten
inputs and rewritten by a rule table until no rule applies. Iterative, with a loop guard."""

from __future__ import annotations

import zlib
from typing import Callable

from ..errors import SymgradError
from ..ir import intern, interned

REWRITES_PER_NODE = 16  # loop guard: a rule table that keeps firing longer than this is a bug
TWIN_CASCADE_LIMIT = 1 << 12  # see ``rewrite``: the most nodes a commuted-twin merge may rebuild


def rewrite(order, outputs, rules_for: Callable, commutative: dict | None = None, *,
            canonical: bool = False) -> tuple:
    """``(outputs, listing)``: the rewritten ``outputs``, given ``order``, a topological listing
    of their ancestors, and the rewritten nodes listed in the order ``toposort`` gives them
    when ``order`` is the toposort of ``outputs`` and the sweep only rebuilt nodes on
    rewritten inputs and merged equal nodes (no rule fired, no operands swapped), else None.

    ``rules_for(op)`` gives the rules ``node -> node | None`` for an op's nodes (asked once per
    op); the first replacement with the node's shape and dtype wins and is itself rewritten, so
    rules may build new nodes freely. A rule with a ``needs`` attribute (a set of ops) is only
    tried on nodes with an input made by one of those ops. Structurally equal results are
    one node by interning, so subexpressions merge across the whole graph. ``commutative``
    maps an op name to a predicate ``(a, b) -> bool`` saying when ``op(a, b)`` equals
    ``op(b, a)``, or to True where it always does.

    Without ``canonical``, a commuted pair merges into the one settled first and other nodes
    keep their operand order. The merge saves one node but rebuilds every node that depends on
    the later one, so it is made only when that node is rebuilt anyway (an input changed) or
    fewer than ``TWIN_CASCADE_LIMIT`` nodes follow it in ``order``: on large derivative graphs
    a handful of such pairs low in the graph would otherwise rebuild a third of it or more
    (W4 10^5: 6 merges, 115,932 nodes rebuilt).

    With ``canonical``, every settled node gets a structural key, a hash of its op, params and
    its inputs' keys (in sorted order where the op commutes), which does not depend on the order
    the graph was built in, and commuting operands are swapped into increasing key order:
    graphs that differ only in the order of commuting operands give the same nodes (barring a
    64-bit hash collision). A swap rebuilds every node that depends on it, so on a deep graph
    built in another order this rebuilds most nodes.

    A node whose inputs did not change and where no rule fires is kept as it is; the others are
    rebuilt with the node's shape and dtype (rules keep both), without inferring them again.

    Why the listing is then ``order`` mapped and without repeats: a rebuilt node has the images
    of its inputs in the same places, so a depth-first walk meets the same nodes in the same
    order, and a node merged into one settled earlier (its commuted twin, or a node rebuilt
    equal to it) is met when its image and every input of it are already listed, so the walk
    adds nothing there; and no node is left dead (a merge keeps the same inputs).
    """
    commutative = commutative or {}
    plans: dict = {}     # op -> (rules always tried, all rules, their trigger ops, commutes,
    #                       the op's key)
    final: dict = {}     # node -> its rewritten node (which maps to itself)
    rewritten = final.__getitem__
    moved: set = set()   # the nodes whose rewritten node is another one
    unmoved = moved.isdisjoint
    keys: dict = {}      # with ``canonical``: settled node -> structural key
    param_keys: dict = {}  # (op, params) -> the key of the op with those params
    budget = [REWRITES_PER_NODE * (len(order) + 1)]
    restructured = [False]  # a rule fired or operands were swapped: the listing is redone

    def key_of(node, op_key, inputs, commutes) -> int:
        if not inputs:
            return _leaf_key(node)
        params = node.params
        if params:
            op_key = param_keys.get((node.op, params))
            if op_key is None:
                op_key = param_keys[node.op, params] = zlib.crc32(
                    repr(params).encode(), zlib.crc32(node.op.name.encode()))
        parts = [keys[x] for x in inputs]
        if commutes is not None:
            parts.sort()
        return hash((op_key, *parts))

    def step(node):
        """Rewrite ``node``, whose inputs are settled: settle it, or return its replacement."""
        op = node.op
        plan = plans.get(op)
        if plan is None:
            plan = plans[op] = _plan(op, rules_for(op), commutative.get(op.name))
        rules, all_rules, triggers, commutes, op_key = plan
        inputs = node.inputs
        if unmoved(inputs):
            changed = False
        else:
            changed = True
            inputs = tuple(map(rewritten, inputs))
        if commutes is not None:
            a, b = inputs
            if commutes is not True and not commutes(a, b):
                commutes = None
            elif canonical:
                if keys[a] > keys[b]:
                    inputs, changed = (b, a), True
                    restructured[0] = True
            elif (changed or position >= late) and a is not b:
                twin = interned(op, (b, a), node.params)
                if twin is not None:
                    twin = final.get(twin)
                    if twin is not None:        # the commuted twin, settled before
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
        if triggers:
            for x in inputs:
                if x.op in triggers:
                    rules = all_rules
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
            keys[new] = key_of(new, op_key, inputs, commutes)
        return None

    late = len(order) - TWIN_CASCADE_LIMIT   # twins from here on merge at little cost
    for position, node in enumerate(order):
        if node not in final:
            out = step(node)
            if out is not None:
                restructured[0] = True
                _settle_replacement(node, out, step, final, moved, budget)
    listing = None if restructured[0] else tuple(dict.fromkeys(map(rewritten, order)))
    return [final[out] for out in outputs], listing


def _plan(op, rules, commutes) -> tuple:
    """What the driver keeps per op: the rules tried on every node, all its rules, the ops that
    trigger the guarded ones (those with ``needs``), its commutativity and its key."""
    rules = tuple(rules)
    triggers = frozenset(needed for rule in rules for needed in getattr(rule, "needs", ()))
    always = tuple(rule for rule in rules if not hasattr(rule, "needs"))
    return always, rules, triggers, commutes, zlib.crc32(op.name.encode())


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
