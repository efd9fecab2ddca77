"""The numeric conventions of API §9 and issue 7 (items 10-16): pow at a zero base as JAX, ties
at infinity, logsumexp at any magnitude, signed zeros, NaN-safe where, empty axes, no leaked
numpy warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import symgrad as sg
from tests.helpers.gradcheck import numeric_gradient

x, y = sg.var("x"), sg.var("y")


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def grad(f, wrt, at, order=1):
    G = f
    for _ in range(order):
        G = sg.gradients(G, wrt)
    return [float(v) for v in sg.evaluate(G, at)]


# -- pow at a zero base (item 10) ----------------------------------------------------------------
def test_pow_derivatives_at_a_zero_base_are_those_of_jax():
    assert grad(x ** 0, ["x"], {"x": 0.0}) == [0.0]                      # d/dx x**0 at 0
    assert grad(x ** 0.0, ["x"], {"x": 0.0}) == [0.0]
    assert grad(x ** y, ["y"], {"x": 0.0, "y": 0.3}) == [0.0]            # d/dy 0**y, y > 0
    assert grad(x ** y, ["x", "y"], {"x": 0.0, "y": 0.0}) == [0.0, 0.0]  # (0, 0)
    assert grad(x ** y, ["x"], {"x": 0.0, "y": 2.0}) == [0.0]
    assert grad(x ** y, ["x"], {"x": 0.0, "y": 0.5}) == [np.inf]         # a true infinity
    assert grad(sg.const(0.0) ** y, ["y"], {"y": 2.0}) == [0.0]


def test_pow_derivatives_away_from_zero_match_finite_differences():
    G = sg.Graph(x ** y)
    at = {"x": 1.7, "y": -0.6}
    got = grad(G, ["x", "y"], at)
    expected = [float(numeric_gradient(G, at, n)) for n in "xy"]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # second derivatives: d2/dx2 x**y = y (y-1) x**(y-2), d2/dxdy = x**(y-1) (1 + y log x)
    assert grad(x ** y, ["x"], at, order=2)[0] == pytest.approx(-0.6 * -1.6 * 1.7 ** -2.6)
    B = sg.gradients(sg.gradients(x ** y, ["x"]), ["y"])
    assert float(sg.evaluate(B, at)[0]) == pytest.approx(1.7 ** -1.6 * (1 - 0.6 * np.log(1.7)))


def test_a_constant_exponent_keeps_the_plain_rule():
    # the zero-exponent guard folds away when the exponent is a nonzero constant
    B = sg.gradients(x ** 3, ["x"])
    assert not any(n.op.name == "where" for n in B.nodes)
    assert grad(x ** 3, ["x"], {"x": 2.0}) == [12.0]


# -- ties at infinity (item 11) ------------------------------------------------------------------
def test_max_and_maximum_with_infinities():
    v = sg.var("v", shape=(3,))
    (g,) = sg.evaluate(sg.gradients(sg.max(v), ["v"]), {"v": [np.inf, 1.0, 2.0]})
    np.testing.assert_array_equal(g, [1.0, 0.0, 0.0])
    (g,) = sg.evaluate(sg.gradients(sg.max(v), ["v"]), {"v": [np.inf, np.inf, 2.0]})
    np.testing.assert_array_equal(g, [0.5, 0.5, 0.0])
    for f in (sg.maximum(x, y), sg.minimum(x, y)):
        assert grad(f, ["x", "y"], {"x": np.inf, "y": np.inf}) == [0.5, 0.5]
        assert grad(f, ["x", "y"], {"x": -np.inf, "y": -np.inf}) == [0.5, 0.5]
    assert grad(sg.maximum(x, y), ["x", "y"], {"x": np.inf, "y": 1.0}) == [1.0, 0.0]
    assert grad(sg.minimum(x, y), ["x", "y"], {"x": np.inf, "y": 1.0}) == [0.0, 1.0]
    assert grad(sg.maximum(x, x), ["x"], {"x": 3.0}) == [1.0]


# -- logsumexp at any magnitude (item 12) --------------------------------------------------------
@pytest.mark.parametrize("scale", [1.0, 1e10, 1e15, 1e16, 1e300])
def test_logsumexp_gradient_and_hessian_are_exact_at_any_magnitude(scale):
    w = sg.var("w", shape=(2,))
    f = sg.logsumexp(w)
    (g,) = sg.evaluate(sg.gradients(f, ["w"]), {"w": [scale, scale]})
    np.testing.assert_array_equal(g, [0.5, 0.5])
    (H,) = sg.evaluate(sg.hessian(f, ["w"]), {"w": [scale, scale]})
    np.testing.assert_allclose(H, [[0.25, -0.25], [-0.25, 0.25]], rtol=1e-15)


# -- signed zeros (item 13) ----------------------------------------------------------------------
def test_construction_identities_keep_signed_zeros():
    at = {"x": 0.0}
    assert float(sg.evaluate(sg.Graph(1 / (0.0 - x)), at)[0]) == np.inf      # numpy: 1/(0-0)
    assert float(sg.evaluate(sg.Graph(1 / (x + 0.0)), {"x": -0.0})[0]) == np.inf
    assert float(sg.evaluate(sg.Graph(1 / (x - 0.0)), {"x": -0.0})[0]) == -np.inf
    assert float(sg.evaluate(sg.Graph(1 / (-0.0 - x)), at)[0]) == -np.inf
    assert x + (-0.0) is x and x - 0.0 is x and (-0.0 - x).op.name == "neg"
    assert (x + 0.0).op.name == "add" and (0.0 - x).op.name == "sub"
    n = sg.var("n", dtype="int64")
    assert n + 0 is n                                     # integers have one zero


# -- NaN-safe where (item 14, API §9) ------------------------------------------------------------
def test_where_with_sqrt_has_gradient_zero_in_the_other_branch():
    f = sg.where(x > 0, sg.sqrt(x), 0)
    assert grad(f, ["x"], {"x": -1.0}) == [0.0]
    assert grad(f, ["x"], {"x": 4.0}) == [0.25]
    assert grad(f, ["x"], {"x": -1.0}, order=2) == [0.0]
    assert grad(f, ["x"], {"x": 4.0}, order=2) == [pytest.approx(-1 / 32)]


def test_where_with_x_log_x_has_first_and_second_derivative_zero_at_zero():
    f = sg.where(x > 0, x * sg.log(x), 0)
    assert grad(f, ["x"], {"x": 0.0}) == [0.0]
    assert grad(f, ["x"], {"x": 0.0}, order=2) == [0.0]
    assert grad(f, ["x"], {"x": 0.0}, order=3) == [0.0]
    assert grad(f, ["x"], {"x": 2.0}) == [pytest.approx(np.log(2.0) + 1)]
    assert grad(f, ["x"], {"x": 2.0}, order=2) == [pytest.approx(0.5)]
    assert grad(f, ["x"], {"x": 2.0}, order=3) == [pytest.approx(-0.25)]


def test_nan_safe_where_for_tensors_both_branches_and_nesting():
    v = sg.var("v", shape=(4,))
    at = {"v": [-1.0, 0.0, 0.25, 4.0]}
    f = sg.sum(sg.where(v > 0, sg.sqrt(v), sg.log(-v) * 0 + v))
    (g,) = sg.evaluate(sg.gradients(f, ["v"]), at)
    # v = 0 takes the second branch: log(-0) * 0 has derivative -(0/-0)... = NaN there by IEEE
    np.testing.assert_array_equal(g[[0, 2, 3]], [1.0, 1.0, 0.25])
    inner = sg.where(v < 1, sg.sqrt(v) * sg.log(v), 0)
    f = sg.sum(sg.where(v > 0, inner, 0))
    (g,) = sg.evaluate(sg.gradients(f, ["v"]), at)
    np.testing.assert_allclose(g, [0.0, 0.0, (np.log(0.25) + 2) / (2 * 0.5), 0.0])


def test_where_does_not_hide_a_true_infinity_of_the_selected_branch():
    f = sg.where(x > -1, sg.sqrt(x), 0)
    assert grad(f, ["x"], {"x": 0.0}) == [np.inf]


# -- empty axes (item 15) ------------------------------------------------------------------------
def test_softmax_of_an_empty_axis_is_empty():
    e = sg.var("e", shape=(2, 0))
    for f in (sg.softmax(e), sg.log_softmax(e), sg.softmax(e, axis=0)):
        (value,) = sg.evaluate(f, {"e": np.zeros((2, 0))})
        assert value.shape == (2, 0) and value.dtype == np.float64
    (g,) = sg.evaluate(sg.gradients(sg.sum(sg.softmax(e)), ["e"]), {"e": np.zeros((2, 0))})
    assert g.shape == (2, 0)


def test_cross_entropy_of_no_rows_is_nan_without_a_warning():
    z, labels = sg.var("z", shape=(0, 3)), sg.var("l", shape=(0,), dtype="int64")
    f = sg.cross_entropy(z, labels)
    at = {"z": np.zeros((0, 3)), "l": np.zeros(0, dtype=int)}
    (value,) = sg.evaluate(f, at)
    assert np.isnan(value) and value.dtype == np.float64
    (g,) = sg.evaluate(sg.gradients(f, ["z"]), at)
    assert g.shape == (0, 3)


# -- no numpy warnings (item 16) -----------------------------------------------------------------
def test_overflowing_float32_constants_are_inf_silently():
    assert float(sg.const(1e300, "float32").value) == np.inf
    x32 = sg.var("f", dtype="float32")
    f = x32 * 1e300
    assert f.dtype == "float32" and float(sg.evaluate(f, {"f": 1.0})[0]) == np.inf
    G = sg.parse("f * 1e300 - 1e39", dtypes={"f": "float32"})
    assert float(sg.evaluate(G, {"f": -1.0})[0]) == -np.inf
    assert float(sg.const(np.float64(1e300), "float32").value) == np.inf
