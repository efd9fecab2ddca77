"""Property: on random graphs (scalar and tensor ops, derivative graphs, constants and inputs
that include NaN, ±0 and ±inf) optimize keeps every value bit for bit, never adds a node, and
keeps the inputs and the outputs' shapes and dtypes; with ``canonical=True`` the result does
not depend on the order of commuting operands."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.ir import intern
from symgrad.ops.arith import add, div, mul, sub
from symgrad.ops.elementwise import maximum, minimum, pow_
from symgrad.ops.shape import reshape_op, transpose_op
from symgrad.passes import rules
from symgrad.passes.rewrite import rewrite
from symgrad.passes.rules import COMMUTATIVE
from tests.helpers.bitwise import assert_same_bits

SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, -2.5, 1e-300, 1e300, np.inf, -np.inf, np.nan]


def _raw_reshape_chain(a):
    return intern(reshape_op, (intern(reshape_op, (a,), (("shape", a.shape[::-1]),)),),
                  (("shape", a.shape),))


def _raw_transpose_chain(a):
    axes = tuple(range(a.ndim))[::-1]
    return intern(transpose_op, (intern(transpose_op, (a,), (("axes", axes),)),),
                  (("axes", axes),))


UNARY = [
    sg.neg, sg.exp, sg.log, sg.sqrt, sg.sin, sg.tanh, sg.sigmoid, sg.abs, sg.relu, sg.softplus,
    sg.log1p, sg.expm1, sg.sign, lambda a: a ** 2, lambda a: a ** 0.5, lambda a: a ** 3,
    lambda a: 1 + a, lambda a: sg.exp(a) - 1, lambda a: sg.log(1 + a),
    lambda a: sg.log(sg.sigmoid(a)), lambda a: sg.sum(a, axis=0, keepdims=True) if a.ndim else a,
    lambda a: sg.sum(a), lambda a: sg.broadcast_to(a, (2, 3)) if a.ndim == 0 else a,
    lambda a: sg.reshape(sg.transpose(a), a.shape),
    lambda a: sg.reshape(sg.reshape(a, (a.size,)), a.shape),
    lambda a: sg.log(sg.softmax(a, axis=-1)) if a.ndim else a,
    _raw_reshape_chain, _raw_transpose_chain,
]
BINARY = [add, sub, mul, div, maximum, minimum, pow_]
BINARY_BUILT = [lambda a, b: sg.where(sg.greater(a, b), a, b), lambda a, b: a * -b,
                lambda a, b: a - -b, lambda a, b: -a + b]
SHAPES = ((), (1, 3), (2, 3))  # the pool's shapes: any two broadcast together
STABILIZED = ("log1p", "expm1", "softplus", "log_softmax", "sqrt")


def _binary(a, b, op, raw: bool):
    """op(a, b) through its builder, or raw (no identities, no folding) as a loaded graph."""
    return intern(op, (a, b)) if raw else op(a, b)


@st.composite
def graphs(draw):
    x, y, v = sg.var("x"), sg.var("y"), sg.var("v", shape=(2, 3))
    unused = sg.var("unused")
    constants = [0.0, -0.0] + draw(st.lists(st.sampled_from(SPECIAL), min_size=1, max_size=2))
    pool = [x, y, v] + [sg.const(c) for c in constants]
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.integers(0, 2))
        a = pool[draw(st.integers(0, len(pool) - 1))]
        b = pool[draw(st.integers(0, len(pool) - 1))]
        parent = a.inputs[-1] if a.inputs else None
        if parent is not None and parent.shape in SHAPES and draw(st.booleans()):
            b = parent                           # op(f(b), b): zeros of both signs meet
        if kind == 0:
            pool.append(draw(st.sampled_from(UNARY))(a))
        elif kind == 1:
            op, raw = draw(st.sampled_from(BINARY)), draw(st.booleans())
            pool.append(_binary(a, b, op, raw))
            if draw(st.booleans()):              # and op(b, a), which may merge with it
                pool.append(_binary(b, a, op, raw))
        else:
            pool.append(draw(st.sampled_from(BINARY_BUILT))(a, b))
    outputs = pool[3 + len(constants):]          # every node built: every rewrite is seen
    if draw(st.booleans()):                      # a derivative graph: B's appended nodes too
        f = sg.sum(pool[-1]) if pool[-1].ndim else pool[-1]
        outputs = outputs + list(sg.gradients(f, [x, y, v]).outputs)
    return sg.Graph(outputs, inputs=[x, unused, y, v])


number = st.sampled_from(SPECIAL) | st.sampled_from(SPECIAL) | st.floats(-3, 3)  # mostly special
values = st.fixed_dictionaries({"x": number, "y": number, "unused": st.just(1.0),
                                "v": st.lists(number, min_size=6, max_size=6)})


def _work(graph: sg.Graph) -> int:
    """The elements a graph's operations compute; a broadcast is a view and computes none (so
    op(broadcast(a)) -> broadcast(op(a)) adds a node and saves work)."""
    return sum(n.size for n in graph.nodes
               if not (n.is_input or n.is_const or n.op.name == "broadcast_to"))


@settings(max_examples=150, deadline=None)
@given(graphs(), values)
def test_exact_rewrites_keep_every_bit(G, inputs):
    inputs = dict(inputs, v=np.reshape(inputs["v"], (2, 3)))
    O = sg.optimize(G, stabilize=False)
    assert O.inputs == G.inputs
    assert O.nodes == sg.Graph(O.outputs, O.inputs).nodes        # the outputs' own toposort
    assert _work(O) <= _work(sg.Graph(G.outputs, G.inputs))
    expected = sg.evaluate(G, inputs)
    for k, (got, want) in enumerate(zip(sg.evaluate(O, inputs), expected)):
        assert_same_bits(got, want, f"output {k}")


@settings(max_examples=60, deadline=None)
@given(graphs(), values)
def test_stabilized_graphs_keep_types_and_exact_values_elsewhere(G, inputs):
    inputs = dict(inputs, v=np.reshape(inputs["v"], (2, 3)))
    O = sg.optimize(G)
    assert O.inputs == G.inputs
    assert [(o.shape, o.dtype) for o in O.outputs] == [(o.shape, o.dtype) for o in G.outputs]
    live = sg.Graph(G.outputs, G.inputs)     # log(sigmoid(x)) -> -softplus(-x): 2 nodes for 1
    grown = sum(n.size for n in live.nodes
                if n.op.name == "log" and n.inputs[0].op.name == "sigmoid")
    assert _work(O) <= _work(live) + 2 * grown
    if not any(n.op.name in STABILIZED for n in O.nodes):
        for k, (got, want) in enumerate(zip(sg.evaluate(O, inputs), sg.evaluate(G, inputs))):
            assert_same_bits(got, want, f"output {k}")


def _commuted(G, flips: list) -> sg.Graph:
    """``G`` rebuilt (raw, as loaded) with commuting operands swapped where ``flips`` says."""
    new = {}
    for k, node in enumerate(G.nodes):
        inputs = tuple(new[x] for x in node.inputs)
        commutes = COMMUTATIVE.get(node.op.name)
        if commutes is not None and flips[k % len(flips)] and (commutes is True
                                                              or commutes(*inputs)):
            inputs = inputs[::-1]
        new[node] = intern(node.op, inputs, node.params) if inputs else node
    return sg.Graph([new[out] for out in G.outputs], G.inputs)


@settings(max_examples=100, deadline=None)
@given(graphs(), st.lists(st.booleans(), min_size=1, max_size=7), values)
def test_canonical_order_does_not_depend_on_operand_order(G, flips, inputs):
    inputs = dict(inputs, v=np.reshape(inputs["v"], (2, 3)))
    H = _commuted(G, flips)
    one, two = sg.optimize(G, canonical=True), sg.optimize(H, canonical=True)
    assert one.outputs == two.outputs and one.nodes == two.nodes
    exact = sg.optimize(H, stabilize=False, canonical=True)
    for k, (got, want) in enumerate(zip(sg.evaluate(exact, inputs), sg.evaluate(G, inputs))):
        assert_same_bits(got, want, f"output {k}")


@st.composite
def merge_only_graphs(draw):
    """Raw graphs of add, mul, sin and exp over two inputs, with commuted twins and repeats:
    no rule fires on them, optimize only merges nodes and rebuilds their consumers."""
    pool = [sg.var("x"), sg.var("y")]
    for _ in range(draw(st.integers(1, 30))):
        a, b = (pool[draw(st.integers(0, len(pool) - 1))] for _ in range(2))
        kind = draw(st.integers(0, 3))
        if kind < 2:
            op = (add, mul)[kind]
            pool.append(intern(op, (a, b)))
            if draw(st.booleans()):              # its commuted twin, used from here on
                pool.append(intern(op, (b, a)))
        else:
            pool.append(intern(sg.exp if kind == 2 else sg.sin, (a,)))
    count = draw(st.integers(1, 3))
    return sg.Graph(pool[-count:] + [pool[draw(st.integers(2, len(pool) - 1))]]
                    if len(pool) > 2 else pool)


@settings(max_examples=150, deadline=None)
@given(merge_only_graphs())
def test_a_sweep_that_only_merges_lists_the_new_graph_without_a_new_walk(G):
    outputs, listing = rewrite(G.nodes, G.outputs, rules.rules_for(True), COMMUTATIVE)
    assert listing is not None                   # no rule fired: the listing is mapped
    assert listing == sg.Graph(outputs).nodes    # exactly the toposort a new walk gives
    O = sg.optimize(G, canonical=False)          # as sg.compile optimizes
    assert O.nodes == listing and len(O) <= len(G)
