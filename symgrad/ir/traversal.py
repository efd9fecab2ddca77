"""Iterative graph walks: topological order, consumers, descendants. No recursion anywhere."""

from __future__ import annotations

from typing import Iterable, Sequence


WIDE = 8   # nodes with more inputs keep their place in them: see toposort


def toposort(roots: Iterable, done: Sequence = ()) -> list:
    """Every ancestor of ``roots`` (inclusive) once, inputs before consumers.

    Depth-first post-order with an explicit stack, visiting each node's inputs left to right and
    the roots in order, so the result is deterministic. ``done``, a topological order already
    computed (e.g. the forward graph's listing), is the prefix of the result and is not walked.

    The stack holds nodes only, and a node's inputs are scanned again from the first each time
    the walk comes back to it (the inputs already seen are skipped): for the usual one to three
    inputs that is cheaper than an iterator per node, and allocates nothing per node, so a long
    walk gives Python's cycle collector no reason to run. A node with more than ``WIDE`` inputs
    keeps an iterator instead, so a very wide node costs linear time.
    """
    seen: set = set(done)
    order: list = list(done)
    visit, emit = seen.add, order.append
    resume: dict = {}                 # wide node -> iterator over its inputs, where it stopped
    for root in roots:
        if root in seen:
            continue
        visit(root)
        stack = [root]
        push, pop = stack.append, stack.pop
        while stack:
            node = stack[-1]
            inputs = node.inputs
            if len(inputs) > WIDE:
                inputs = resume.get(node) or resume.setdefault(node, iter(inputs))
            for child in inputs:
                if child not in seen:
                    visit(child)
                    push(child)
                    break
            else:
                pop()
                emit(node)
    return order


def consumers(order: list) -> dict:
    """node → list of (consumer, input position), for the nodes of a topological ``order``."""
    table: dict = {node: [] for node in order}
    for node in order:
        for position, parent in enumerate(node.inputs):
            table[parent].append((node, position))
    return table


def descendants(order: list, sources: Iterable, follow=None) -> set:
    """The nodes of ``order`` reachable from ``sources`` (inclusive), in one forward sweep.

    ``follow(node, position)`` decides whether the edge from input ``position`` counts.
    """
    reached = set(sources)
    for node in order:
        if node in reached:
            continue
        for position, parent in enumerate(node.inputs):
            if parent in reached and (follow is None or follow(node, position)):
                reached.add(node)
                break
    return reached
