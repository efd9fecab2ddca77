"""Iterative graph walks: topological order, consumers, descendants. No recursion anywhere."""

from __future__ import annotations

from typing import Iterable, Sequence


def toposort(roots: Iterable, done: Sequence = ()) -> list:
    """Every ancestor of ``roots`` (inclusive) once, inputs before consumers.

    Depth-first post-order with an explicit stack, visiting each node's inputs left to right and
    the roots in order, so the result is deterministic. ``done``, a topological order already
    computed (e.g. the forward graph's listing), is the prefix of the result and is not walked.
    """
    seen: set = set(done)
    order: list = list(done)
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.inputs))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in seen:
                    seen.add(child)
                    stack.append((child, iter(child.inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
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
