"""Evaluated dtype == declared dtype, for every elementwise op and every input dtype (issue 7,
items 3 and 5): numpy's own promotion (bool + bool is bool, exp(bool) is float16, numpy 1.x's
value-based casting) never decides the type of a result."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import symgrad as sg
from symgrad.ir import REGISTRY

DTYPES = ("bool", "int64", "float32", "float64")
VALUES = {"bool": True, "int64": 2, "float32": 0.5, "float64": 0.25}
PARAMS = {"heaviside": {"at0": 0.5}}


def _operand(position: int, dtype: str):
    """A non-constant node of ``dtype`` (bools come from a comparison of an input)."""
    if dtype == "bool":
        return sg.greater(sg.var(f"p{position}"), 0)
    return sg.var(f"v{position}_{dtype}", dtype=dtype)


def _values(graph: sg.Graph) -> dict:
    return {v.name: (1.0 if v.name.startswith("p") else VALUES[v.dtype]) for v in graph.inputs}


def _elementwise_cases():
    for name, op in sorted(REGISTRY.ops.items()):
        if not op.elementwise or name == "cast" or callable(op.bprop):
            continue
        for dtypes in itertools.product(DTYPES, repeat=len(op.bprop)):
            if name == "where" and dtypes[0] != "bool":
                continue
            yield name, dtypes


@pytest.mark.parametrize("name,dtypes", list(_elementwise_cases()))
def test_every_elementwise_op_evaluates_to_its_declared_dtype(name, dtypes):
    op = REGISTRY.ops[name]
    args = [_operand(i, d) for i, d in enumerate(dtypes)]
    try:
        node = op(*args, **PARAMS.get(name, {}))
    except sg.ShapeError:
        return                                   # a combination the op refuses at build time
    G = sg.Graph(node)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (value,) = sg.evaluate(G, _values(G))
    assert value.dtype == np.dtype(node.dtype), (name, dtypes, node.dtype, value.dtype)
    assert value.shape == node.shape


def test_the_reported_cases():
    x, y = sg.var("x"), sg.var("y")
    at = {"x": 1.0, "y": 2.0}
    both = sg.greater(x, 0) + sg.greater(y, 0)
    assert both.dtype == "int64"
    value = sg.evaluate(sg.Graph(both), at)[0]
    assert value.dtype == np.int64 and value == 2                         # not array(True)
    e = sg.exp(sg.greater(x, 0))
    value = sg.evaluate(sg.Graph(e, [x]), {"x": 1.0})[0]
    assert value.dtype == np.float64 and value == np.e                    # not float16
    value = sg.evaluate(sg.Graph(-sg.greater(x, 0), [x]), {"x": 1.0})[0]         # numpy's TypeError
    assert value.dtype == np.int64 and value == -1
    v = sg.var("v", shape=(3,))
    w = sg.var("w", shape=(3,))
    f = sg.exp(sg.greater(v, 0)) + w
    value = sg.evaluate(f, {"v": [1.0, -1.0, 1.0], "w": [0.0, 0.0, 0.0]})[0]
    assert value.dtype == np.float64
    np.testing.assert_array_equal(value, [np.e, 1.0, np.e])


def test_float32_with_numpy_and_python_scalars():
    x32 = sg.var("x", dtype="float32")
    for node, dtype in ((x32 * np.float64(0.1), "float64"), (x32 * 0.1, "float32"),
                        (x32 + sg.var("k", dtype="int64"), "float64"), (x32 ** 2, "float32"),
                        (sg.var("k", dtype="int64") ** 2, "float64")):
        assert node.dtype == dtype
        G = sg.Graph(node)
        value = sg.evaluate(G, {v.name: 3 for v in G.inputs})[0]
        assert value.dtype == np.dtype(dtype), node


def test_other_ops_keep_their_declared_dtype():
    b = sg.greater(sg.var("m", shape=(2, 3)), 0)
    i = sg.var("i", shape=(2, 3), dtype="int64")
    f32 = sg.var("f", shape=(2, 3), dtype="float32")
    nodes = [sg.sum(b), sg.max(b), sg.mean(b), sg.mean(i), sg.softmax(i), sg.logsumexp(f32),
             sg.log_softmax(i), sg.concatenate([i, f32]), sg.matmul(f32, sg.transpose(i)),
             sg.cast(f32, dtype="int64"), sg.cast(b, dtype="float32")]
    G = sg.Graph(nodes)
    values = {"m": np.ones((2, 3)), "i": np.ones((2, 3), int), "f": np.ones((2, 3))}
    for node, value in zip(nodes, sg.evaluate(G, values)):
        assert value.dtype == np.dtype(node.dtype), (node, value.dtype)


def test_gradients_of_mixed_dtypes_keep_the_input_dtype():
    x32 = sg.var("x", shape=(2,), dtype="float32")
    f = sg.sum(x32 * np.float64(3.0) + sg.exp(sg.greater(x32, 0)))
    (g,) = sg.evaluate(sg.gradients(f, ["x"]), {"x": [1.0, -1.0]})
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [3.0, 3.0])
