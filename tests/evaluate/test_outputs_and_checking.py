"""Outputs the caller owns (issue 7 item 9), in-place buffers that never change a value or dtype
(item 4), quiet input casts (item 16) and the checking mode of the evaluator."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import symgrad as sg
from symgrad.evaluate import program
from symgrad.ir import OpDef, intern

BACKENDS = ["numpy", "python"]


def _owned(arrays, *foreign):
    for a in arrays:
        assert isinstance(a, np.ndarray) and a.flags.writeable and a.flags.owndata
        for other in foreign:
            assert not np.shares_memory(a, other)
    for i, a in enumerate(arrays):
        for b in arrays[i + 1:]:
            assert not np.shares_memory(a, b)


@pytest.mark.parametrize("backend", [*BACKENDS, "c"])
def test_gradients_of_a_product_are_not_the_callers_arrays(backend):
    W1, W2 = sg.var("W1", shape=(3,)), sg.var("W2", shape=(3,))
    B = sg.gradients(sg.sum(W1 * W2), ["W1", "W2"])
    w1, w2 = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    g1, g2 = sg.compile(B, backend=backend)(W1=w1, W2=w2)
    _owned([g1, g2], w1, w2)
    w1 -= 0.1 * g1                  # an SGD step must not change the other gradient
    assert g2.tolist() == [1.0, 2.0, 3.0] and g1.tolist() == [4.0, 5.0, 6.0]


@pytest.mark.parametrize("backend", [*BACKENDS, "c"])
def test_views_of_inputs_and_constants_come_back_as_fresh_writable_arrays(backend):
    X = sg.var("X", shape=(2, 3))
    v = sg.var("v", shape=(3,))
    c = sg.const(np.array([1.0, 2.0]))
    G = sg.Graph([sg.reshape(X, (3, 2)), v[::-1], X, c, X.T, sg.broadcast_to(v, (2, 3)), v, v],
                 inputs=[X, v])
    xv, vv = np.arange(6.0).reshape(2, 3), np.array([1.0, 2.0, 3.0])
    outs = sg.compile(G, backend=backend)(X=xv, v=vv)
    _owned(outs, xv, vv, c.value)
    for out in outs:
        out *= 0.5                                      # writable, and touches nothing else
    assert xv.tolist() == [[0, 1, 2], [3, 4, 5]] and vv.tolist() == [1, 2, 3]
    assert c.value.tolist() == [1.0, 2.0]
    again = sg.compile(G, backend=backend)(X=xv, v=vv)
    assert again[3].tolist() == [1.0, 2.0] and again[6].tolist() == [1.0, 2.0, 3.0]


def _mistyped(dtype: str) -> OpDef:
    """An op whose forward returns float16 while it declares ``dtype`` (a wrong declaration)."""
    return OpDef("mistyped", infer=lambda a: (a.shape, dtype),
                 forward=lambda a: np.asarray(a).astype(np.float16) + np.float16(0.3),
                 bprop=(None,), sympy=None, elementwise=True)


def test_in_place_buffers_never_change_a_value_or_dtype_even_under_a_wrong_declaration():
    v, w = sg.var("v", shape=(3,)), sg.var("w", shape=(3,))
    odd = intern(_mistyped("float64"), (v,))          # declared float64, evaluates float16
    G = sg.Graph(sg.exp(odd) + w)                     # exp's buffer would be reused in place
    vv, wv = np.array([0.1, 0.2, 0.3]), np.array([1.0, 2.0, 3.0])
    program.CHECK = False
    try:
        got = sg.evaluate(G, {"v": vv, "w": wv})[0]
    finally:
        program.CHECK = True
    expected = np.exp(vv.astype(np.float16) + np.float16(0.3)) + wv
    assert got.dtype == expected.dtype == np.float64
    np.testing.assert_array_equal(got, expected)


def test_checking_mode_names_the_op_whose_value_contradicts_its_declaration():
    v = sg.var("v", shape=(3,))
    G = sg.Graph(intern(_mistyped("float64"), (v,)) * 2.0)
    assert program.CHECK                       # tests/conftest.py turns it on for every test
    with pytest.raises(sg.SymgradError, match="internal error: op 'mistyped'.*float64.*float16"):
        sg.evaluate(G, {"v": np.zeros(3)})
    with pytest.raises(sg.SymgradError, match="mistyped"):
        sg.evaluate(G, {"v": np.zeros((2, 3))}, batched=True)


def test_checking_mode_also_checks_shapes():
    bad = OpDef("misshaped", infer=lambda a: ((2,), a.dtype), forward=lambda a: np.zeros(3),
                bprop=(None,), sympy=None)
    with pytest.raises(sg.SymgradError, match=r"misshaped.*shape \(2,\).*shape \(3,\)"):
        sg.evaluate(sg.Graph(intern(bad, (sg.var("x"),))), {"x": 1.0})


def test_a_float32_input_fed_1e300_evaluates_to_inf_without_a_warning():
    x32 = sg.var("x", dtype="float32")
    G = sg.Graph(x32 * 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for backend in BACKENDS:
            out = sg.compile(G, backend=backend)(x=1e300)[0]
            assert out.dtype == np.float32 and out == np.inf
        assert sg.evaluate(G, {"x": np.array([1e300, -1e300])}, batched=True)[0].tolist() == \
            [np.inf, -np.inf]
