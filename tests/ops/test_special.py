"""The new elementwise and logic ops beyond their OP_SPECS rows: extreme inputs, the kink
conventions of clip / mod / rounding, dtypes, and calling every new function from parsed text."""

from __future__ import annotations

import math

import numpy as np
import pytest

import symgrad as sg

x, y = sg.var("x"), sg.var("y")


def _derivatives(node, names, point, order=1):
    graph = sg.Graph(node)
    out = []
    for _ in range(order):
        graph = sg.gradients(graph, names)
        out.append([float(v) for v in sg.evaluate(graph, point)])
        graph = graph[0]
    return out


# -- overflow-free and exact at extremes ---------------------------------------------------------------
def test_logaddexp_and_hypot_never_overflow():
    big = 1e300
    with np.errstate(all="raise"):
        assert float(sg.evaluate(sg.hypot(x, y), {"x": big, "y": big})[0]) == \
            pytest.approx(big * math.sqrt(2), rel=1e-15)
        assert float(sg.evaluate(sg.logaddexp(x, y), {"x": 1000.0, "y": 999.0})[0]) == \
            pytest.approx(1000.0 + math.log1p(math.exp(-1.0)), rel=1e-15)
        grads = _derivatives(sg.hypot(x, y), ["x", "y"], {"x": big, "y": big})[0]
        np.testing.assert_allclose(grads, [2 ** -0.5] * 2, rtol=1e-15)
        grads = _derivatives(sg.logaddexp(x, y), ["x", "y"], {"x": 800.0, "y": -800.0})[0]
        assert grads == [1.0, 0.0]


def test_arcsinh_is_exact_for_large_arguments_with_finite_derivatives():
    for value in (1e10, -1e200, 1e300):
        got = float(sg.evaluate(sg.arcsinh(x), {"x": value})[0])
        assert got == pytest.approx(math.copysign(math.log(2 * abs(value)), value), rel=1e-15)
        first, second = _derivatives(sg.arcsinh(x), ["x"], {"x": value}, order=2)
        assert first[0] == pytest.approx(1 / abs(value), rel=1e-12)
        assert math.isfinite(second[0])


def test_inverse_trig_derivatives_keep_precision_near_one():
    value = 1 - 1e-12
    (first,) = _derivatives(sg.arcsin(x), ["x"], {"x": value})
    assert first[0] == pytest.approx(1 / math.sqrt((1 - value) * (1 + value)), rel=1e-9)
    (first,) = _derivatives(sg.arctanh(x), ["x"], {"x": value})
    assert first[0] == pytest.approx(1 / ((1 - value) * (1 + value)), rel=1e-9)


def test_erf_and_erfc_match_math_including_the_tail():
    v = sg.var("v", shape=(6,))
    values = np.array([-6.0, -1.0, 0.0, 0.3, 5.0, 26.0])
    erf, erfc = sg.evaluate(sg.Graph([sg.erf(v), sg.erfc(v)]), {"v": values})
    np.testing.assert_allclose(erf, [math.erf(a) for a in values], rtol=2e-16, atol=0)
    np.testing.assert_allclose(erfc, [math.erfc(a) for a in values], rtol=1e-14, atol=0)
    assert erfc[-1] > 0                                 # not 1 - erf, which is 0 there


def test_arctan2_is_the_angle_in_every_quadrant_and_broadcasts():
    v = sg.var("v", shape=(4,))
    values = np.array([1.0, -1.0, -1.0, 1.0])
    got = sg.evaluate(sg.arctan2(v, sg.const([1.0, 1.0, -1.0, -1.0])), {"v": values})[0]
    np.testing.assert_array_equal(got, np.arctan2(values, [1.0, 1.0, -1.0, -1.0]))


def test_hypot_gradient_is_zero_at_the_origin():
    assert _derivatives(sg.hypot(x, y), ["x", "y"], {"x": 0.0, "y": 0.0})[0] == [0.0, 0.0]


# -- rounding, mod, clip ------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [sg.floor, sg.ceil, sg.round], ids=["floor", "ceil", "round"])
def test_rounding_has_derivative_zero_and_keeps_int_dtypes(fn):
    assert _derivatives(fn(x) * 3 + x, ["x"], {"x": 1.3}, order=2) == [[1.0], [0.0]]
    with pytest.raises(sg.GradientError, match="does not depend"):
        sg.gradients(fn(x), ["x"], disconnected="raise")
    ints = sg.var("n", shape=(2,), dtype="int64")
    assert fn(ints).dtype == "int64"
    assert fn(sg.var("f", dtype="float32")).dtype == "float32"


def test_round_halves_to_even_and_takes_decimals():
    values = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.234567])
    got = sg.evaluate(sg.round(sg.const(values)), {})[0]
    np.testing.assert_array_equal(got, np.round(values))
    got = sg.evaluate(sg.round(sg.const(values), decimals=2), {})[0]
    np.testing.assert_array_equal(got, np.round(values, 2))
    with pytest.raises(sg.ShapeError, match="decimals"):
        sg.round(x, 1.5)


def test_mod_follows_numpy_signs_and_jax_derivatives():
    a, b = sg.var("a", shape=(4,)), sg.var("b", shape=(4,))
    av, bv = np.array([5.3, -5.3, 5.3, -5.3]), np.array([2.0, 2.0, -2.0, -2.0])
    np.testing.assert_array_equal(sg.evaluate(sg.mod(a, b), {"a": av, "b": bv})[0],
                                  np.mod(av, bv))
    da, db = sg.evaluate(sg.gradients(sg.sum(sg.mod(a, b)), ["a", "b"]), {"a": av, "b": bv})
    assert da.tolist() == [1.0] * 4
    assert db.tolist() == (-np.floor(av / bv)).tolist()
    second = _derivatives(sg.mod(x, y), ["x", "y"], {"x": 5.3, "y": 2.0}, order=2)[1]
    assert second == [0.0, 0.0]
    assert sg.mod(sg.var("n", dtype="int64"), sg.const(3, dtype="int64")).dtype == "int64"


def test_clip_values_and_bounds_split_gradients_evenly():
    lo, hi = sg.var("lo"), sg.var("hi")
    c = sg.clip(x, lo, hi)
    for value, expected_value, expected in ((-1.0, 0.0, [0.0, 1.0, 0.0]),
                                            (0.5, 0.5, [1.0, 0.0, 0.0]),
                                            (2.0, 1.0, [0.0, 0.0, 1.0]),
                                            (0.0, 0.0, [0.5, 0.5, 0.0]),    # at lo: even split
                                            (1.0, 1.0, [0.5, 0.0, 0.5])):   # at hi: even split
        point = {"x": value, "lo": 0.0, "hi": 1.0}
        assert float(sg.evaluate(c, point)[0]) == expected_value
        assert [float(g) for g in sg.evaluate(sg.gradients(c, ["x", "lo", "hi"]), point)] == \
            expected
    v = sg.var("v", shape=(5,))
    values = np.array([-3.0, -0.5, 0.0, 0.7, 9.0])
    for lo_, hi_ in ((-1.0, 1.0), (None, 0.5), (0.0, None), (1.0, 0.0)):
        got = sg.evaluate(sg.clip(v, lo_, hi_), {"v": values})[0]
        np.testing.assert_array_equal(got, np.clip(values, lo_, hi_))
    with pytest.raises(sg.ShapeError, match="at least one"):
        sg.clip(v, None, None)


# -- comparisons and logic -----------------------------------------------------------------------------
def test_comparisons_and_logic_are_bool_where_conditions():
    a, b = sg.var("a", shape=(2, 1)), sg.var("b", shape=(3,))
    av, bv = np.array([[0.0], [1.0]]), np.array([0.0, 1.0, 2.0])
    cases = [(sg.greater_equal, np.greater_equal), (sg.less_equal, np.less_equal),
             (sg.equal, np.equal), (sg.not_equal, np.not_equal),
             (sg.logical_and, np.logical_and), (sg.logical_or, np.logical_or)]
    for ours, theirs in cases:
        node = ours(a, b)
        assert node.dtype == "bool" and node.shape == (2, 3)
        got = sg.evaluate(sg.where(node, a, b), {"a": av, "b": bv})[0]
        np.testing.assert_array_equal(got, np.where(theirs(av, bv), av, bv))
    got = sg.evaluate(sg.logical_not(sg.greater(a, 0.5)), {"a": av})[0]
    assert got.tolist() == [[True], [False]]
    for op in (sg.equal, sg.logical_and):
        with pytest.raises(sg.GradientError, match="does not depend"):
            sg.gradients(sg.cast(op(x, y), dtype="float64"), ["x"], disconnected="raise")


# -- parsed text --------------------------------------------------------------------------------------
PARSED = [
    ("min(v)", lambda v: np.min(v)),
    ("min(v, axis=0, keepdims=True)", lambda v: np.min(v, axis=0, keepdims=True)),
    ("prod(v)", np.prod),
    ("variance(v, ddof=1)", lambda v: np.var(v, ddof=1)),
    ("std(v, axis=-1)", lambda v: np.std(v, axis=-1)),
    ("norm(v, ord=1)", lambda v: np.linalg.norm(v, 1)),
    ("norm(v, 2, 0, True)", lambda v: np.linalg.norm(v, 2, 0, True)),
    ("cumsum(v, axis=0)", lambda v: np.cumsum(v, axis=0)),
    ("argmax(v) + argmin(v)", lambda v: np.argmax(v) + np.argmin(v)),
    ("clip(v, -0.5, 0.5)", lambda v: np.clip(v, -0.5, 0.5)),
    ("round(v * 10, decimals=1)", lambda v: np.round(v * 10, 1)),
    ("mod(v, 0.3) + floor(v) - ceil(v)", lambda v: np.mod(v, 0.3) + np.floor(v) - np.ceil(v)),
    ("arcsin(v / 2) + arccos(v / 2) + arctan(v) + arctan2(v, 2)",
     lambda v: np.arcsin(v / 2) + np.arccos(v / 2) + np.arctan(v) + np.arctan2(v, 2)),
    ("sinh(v) + cosh(v) + arcsinh(v) + arccosh(2 + v * v) + arctanh(v / 2)",
     lambda v: np.sinh(v) + np.cosh(v) + np.arcsinh(v) + np.arccosh(2 + v * v)
     + np.arctanh(v / 2)),
    ("log2(2 + v) + log10(2 + v) + exp2(v)",
     lambda v: np.log2(2 + v) + np.log10(2 + v) + np.exp2(v)),
    ("erf(v) + erfc(v) + logaddexp(v, 1) + hypot(v, 3)",
     lambda v: 1.0 + np.logaddexp(v, 1) + np.hypot(v, 3)),
    ("where(logical_and(greater_equal(v, 0), not_equal(v, 1)), v, 0)",
     lambda v: np.where((v >= 0) & (v != 1), v, 0)),
    ("where(logical_or(less_equal(v, 0), logical_not(equal(v, v))), 1, 2)",
     lambda v: np.where(v <= 0, 1.0, 2.0)),
]


@pytest.mark.parametrize("text, reference", PARSED, ids=[t for t, _ in PARSED])
def test_new_functions_parse_by_name_with_keywords(text, reference):
    values = np.array([[0.3, -0.8, 0.9], [1.0, -0.2, 0.45]])
    G = sg.parse(text, shapes={"v": (2, 3)})
    got = sg.evaluate(G, {"v": values})[0]
    np.testing.assert_allclose(got, reference(values), rtol=1e-13)


def test_min_no_longer_suggests_sin():
    G = sg.parse("min(v) - max(v)", shapes={"v": (3,)})
    assert float(sg.evaluate(G, {"v": [1.0, 4.0, -2.0]})[0]) == -6.0
    with pytest.raises(sg.ParseError, match="keyword"):
        sg.parse("min(v, axes=0)", shapes={"v": (3,)})
