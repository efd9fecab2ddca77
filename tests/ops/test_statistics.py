"""The reductions of symgrad/ops/statistics.py: values against numpy, derivatives against
central differences (to third order for the smooth ones), prod at zeros, ties and the
conventions at points where a norm or std is not differentiable."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
from tests.helpers.gradcheck import check_gradients, numeric_gradient

RNG = np.random.default_rng(11)
X = sg.var("X", shape=(2, 3, 4))
XV = RNG.uniform(0.5, 1.5, size=(2, 3, 4)) * RNG.choice([-1.0, 1.0], size=(2, 3, 4))


def weighted(node, seed=0):
    """sum(node * R) for a fixed random R: a scalar with a non-trivial gradient."""
    return sg.sum(node * sg.const(np.random.default_rng(seed).uniform(0.5, 1.5, node.shape)))


# -- values against numpy ---------------------------------------------------------------------------
AXES = [None, 0, -1, (0, 2), (2, 1, 0)]
REDUCTIONS = {
    "min": (sg.min, np.min),
    "prod": (sg.prod, np.prod),
    "variance": (sg.variance, np.var),
    "std": (sg.std, np.std),
}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_match_numpy(name, axis, keepdims):
    ours, theirs = REDUCTIONS[name]
    node = ours(X, axis=axis, keepdims=keepdims)
    got = sg.evaluate(node, {"X": XV})[0]
    expected = theirs(XV, axis=axis, keepdims=keepdims)
    assert node.shape == expected.shape and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
    check_gradients(sg.Graph(weighted(node)), {"X": XV})


@pytest.mark.parametrize("ddof", [0, 1, 2.5])
def test_variance_and_std_ddof_and_int_input(ddof):
    v = RNG.normal(size=(5, 3))
    for ours, theirs in ((sg.variance, np.var), (sg.std, np.std)):
        got = sg.evaluate(ours(sg.const(v), axis=0, ddof=ddof), {})[0]
        np.testing.assert_allclose(got, theirs(v, axis=0, ddof=ddof), rtol=1e-13)
    ints = np.array([[1, 5, 2], [7, 3, 3]])
    node = sg.variance(sg.var("n", (2, 3), dtype="int64"), axis=1, ddof=ddof)
    assert node.dtype == "float64"
    np.testing.assert_allclose(sg.evaluate(node, {"n": ints})[0], np.var(ints, 1, ddof=ddof))


def test_variance_does_not_cancel_for_a_large_offset():
    v = 1e9 + np.array([1.0, 2.0, 3.0, 4.0])
    assert float(sg.evaluate(sg.variance(sg.const(v)), {})[0]) == pytest.approx(1.25, rel=1e-6)


def test_float32_reductions_stay_float32():
    x32 = sg.var("x", shape=(4,), dtype="float32")
    for fn in (sg.min, sg.prod, sg.variance, sg.std, sg.norm, sg.cumsum):
        node = fn(x32)
        B = sg.gradients(sg.sum(node), ["x"])
        assert node.dtype == "float32" and B.outputs[0].dtype == "float32", fn


# -- norm --------------------------------------------------------------------------------------------
VECTOR_ORDS = [None, 2, 1, np.inf, -np.inf, 3, 0.5]
MATRIX_ORDS = [None, "fro", 1, -1, np.inf, -np.inf]


def _check_norm(value, ord, axis, keepdims):
    A = sg.var("A", shape=value.shape)
    node = sg.norm(A, ord=ord, axis=axis, keepdims=keepdims)
    got = sg.evaluate(node, {"A": value})[0]
    expected = np.linalg.norm(value, ord=ord, axis=axis, keepdims=keepdims)
    assert got.shape == expected.shape == node.shape
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    check_gradients(sg.Graph(weighted(node)), {"A": value})


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ord", VECTOR_ORDS, ids=str)
def test_vector_norms(ord, keepdims):
    _check_norm(XV[0, 0], ord, None, keepdims)
    for axis in (1, -1):
        _check_norm(XV[0], ord, axis, keepdims)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norms(ord, keepdims):
    _check_norm(XV[0], ord, None, keepdims)
    for axis in ((1, 2), (2, 0)):
        _check_norm(XV, ord, axis, keepdims)


def test_norm_of_a_tensor_without_ord_is_the_flat_2_norm_and_bad_ords_raise():
    got = sg.evaluate(sg.norm(X), {"X": XV})[0]
    np.testing.assert_allclose(got, np.linalg.norm(XV), rtol=1e-14)
    for kwargs, message in (({"ord": 1}, "1-D or 2-D"), ({"ord": 2, "axis": (0, 1)}, "singular"),
                            ({"ord": "nuc", "axis": (0, 1)}, "singular"),
                            ({"ord": "fro", "axis": 0}, "matrix norm"),
                            ({"axis": (0, 0)}, "two distinct axes"), ({"ord": "max"}, "unknown")):
        with pytest.raises(sg.ShapeError, match=message):
            sg.norm(X, **kwargs)


def test_gradients_at_zero_follow_the_documented_conventions():
    v = sg.var("v", shape=(3,))
    zero = {"v": np.zeros(3)}
    for ord in (None, 2):                               # JAX: 0 * inf, NaN
        assert np.isnan(sg.evaluate(sg.gradients(sg.norm(v, ord), ["v"]), zero)[0]).all()
    for ord in (1, np.inf):                             # abs'(0) = 0
        assert sg.evaluate(sg.gradients(sg.norm(v, ord), ["v"]), zero)[0].tolist() == [0.0] * 3
    constant = {"v": np.full(3, 2.0)}
    assert np.isnan(sg.evaluate(sg.gradients(sg.std(v), ["v"]), constant)[0]).all()
    assert sg.evaluate(sg.gradients(sg.variance(v), ["v"]), constant)[0].tolist() == [0.0] * 3


# -- min ---------------------------------------------------------------------------------------------
def test_min_splits_ties_evenly_and_follows_max():
    v = sg.var("v", shape=(4,))
    point = {"v": np.array([2.0, 1.0, 1.0, 3.0])}
    assert sg.evaluate(sg.gradients(sg.min(v), ["v"]), point)[0].tolist() == [0, 0.5, 0.5, 0]
    rows = sg.min(sg.reshape(v, (2, 2)), axis=1)
    assert sg.evaluate(sg.gradients(sg.sum(rows), ["v"]), point)[0].tolist() == [0, 1, 1, 0]
    with pytest.raises(sg.ShapeError, match="empty"):
        sg.min(sg.var("e", shape=(0, 2)), axis=0)


# -- prod ---------------------------------------------------------------------------------------------
def _products_of_others(values):
    """d prod / dx_i = product of every other element, by direct loops (no division)."""
    n = len(values)
    grad = np.array([np.prod([values[k] for k in range(n) if k != i]) for i in range(n)])
    hess = np.array([[0.0 if i == j else np.prod([values[k] for k in range(n) if k not in (i, j)])
                      for j in range(n)] for i in range(n)])
    return grad, hess


@pytest.mark.parametrize("values", [[0.0, 2.0, 3.0], [1.5, 0.0, -2.0, 0.0, 4.0],
                                    [0.5, -1.5, 2.0, 3.0, 1.25, -0.75, 2.5]])
def test_prod_derivatives_are_exact_with_zeros(values):
    values = np.array(values)
    v = sg.var("v", shape=values.shape)
    point = {"v": values}
    grad_graph = sg.gradients(sg.prod(v), ["v"])
    grad, hess = _products_of_others(values)
    np.testing.assert_allclose(sg.evaluate(grad_graph, point)[0], grad, rtol=1e-14)
    np.testing.assert_allclose(sg.evaluate(sg.hessian(sg.prod(v), ["v"]), point)[0], hess,
                               rtol=1e-14)
    third = sg.gradients(sg.sum(sg.hessian(sg.prod(v), ["v"]).outputs[0] *
                                sg.const(np.outer(values + 1, values - 1))), ["v"])
    expected = numeric_gradient(sg.Graph(sg.sum(sg.hessian(sg.prod(v), ["v"]).outputs[0] *
                                                sg.const(np.outer(values + 1, values - 1)))),
                                point, "v", h=1e-4)
    np.testing.assert_allclose(sg.evaluate(third, point)[0], expected, rtol=1e-6, atol=1e-8)


def test_prod_of_ints_bools_and_empty_axes_follows_numpy():
    ints = np.array([[1, 2, 3], [4, 5, 6]])
    for axis in (None, 0, 1):
        got = sg.evaluate(sg.prod(sg.const(ints), axis=axis), {})[0]
        assert got.dtype == np.int64 and got.tolist() == np.prod(ints, axis=axis).tolist()
    assert sg.evaluate(sg.prod(sg.const([True, False])), {})[0].dtype == np.int64
    empty = sg.prod(sg.var("e", shape=(2, 0)), axis=1)
    assert empty.shape == (2,) and sg.evaluate(empty, {})[0].tolist() == [1.0, 1.0]


def test_prod_graph_is_logarithmic_in_the_length():
    v = sg.var("v", shape=(1024,))
    assert len(sg.Graph(sg.prod(v))) < 60
    values = RNG.uniform(0.99, 1.01, size=1024)
    np.testing.assert_allclose(sg.evaluate(sg.prod(v), {"v": values})[0], np.prod(values),
                               rtol=1e-12)


# -- third order for the smooth reductions -----------------------------------------------------------
@pytest.mark.parametrize("fn", [lambda v: sg.variance(sg.exp(v / 2)), sg.std, sg.norm,
                                lambda v: sg.norm(v, 3), sg.prod,
                                lambda v: sg.cumsum(sg.exp(v / 2))[1],
                                lambda v: sg.sum(sg.cumprod(v))],
                         ids=["variance", "std", "norm", "norm3", "prod", "cumsum", "cumprod"])
def test_third_derivatives_match_central_differences(fn):
    v = sg.var("v", shape=(3,))
    point = {"v": np.array([0.7, -1.3, 2.1])}
    hess = sg.hessian(fn(v), ["v"]).outputs[0]
    probe = sg.Graph(sg.sum(hess * sg.const(RNG.uniform(0.5, 1.5, (3, 3)))))
    check_gradients(probe, point, rtol=1e-5, atol=1e-7, h=1e-5)


# -- cumsum ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [None, 0, 1, -1, 2])
def test_cumsum_matches_numpy_and_its_gradient_is_a_reverse_cumsum(axis):
    node = sg.cumsum(X, axis=axis)
    got = sg.evaluate(node, {"X": XV})[0]
    np.testing.assert_array_equal(got, np.cumsum(XV, axis=axis))
    check_gradients(sg.Graph(weighted(node)), {"X": XV})
    B = sg.gradients(weighted(node), ["X"])
    check_gradients(sg.Graph(weighted(B.outputs[0] * X)), {"X": XV})
    assert sg.evaluate(sg.cumsum(sg.const([True, True, False])), {})[0].tolist() == [1, 2, 2]


@pytest.mark.parametrize("axis", [None, 0, 2, -1])
def test_cumprod_matches_numpy_and_differentiates(axis):
    node = sg.cumprod(X, axis=axis)
    np.testing.assert_allclose(sg.evaluate(node, {"X": XV})[0], np.cumprod(XV, axis=axis),
                               rtol=1e-14)
    check_gradients(sg.Graph(weighted(node)), {"X": XV})
    ints = np.arange(1, 9).reshape(2, 2, 2)
    got = sg.evaluate(sg.cumprod(sg.const(ints), axis=axis), {})[0]
    assert got.dtype == np.int64 and got.tolist() == np.cumprod(ints, axis=axis).tolist()


def test_cumprod_derivatives_are_exact_with_zeros():
    values = np.array([1.5, 0.0, -2.0, 0.0, 4.0, 0.5, 3.0])
    v = sg.var("v", shape=(7,))
    last, middle = sg.cumprod(v)[6], sg.cumprod(v)[4]
    grad, hess = _products_of_others(values)
    point = {"v": values}
    np.testing.assert_array_equal(sg.evaluate(sg.gradients(last, ["v"]), point)[0], grad)
    np.testing.assert_array_equal(sg.evaluate(sg.hessian(last, ["v"]), point)[0], hess)
    head_grad, head_hess = _products_of_others(values[:5])
    np.testing.assert_array_equal(sg.evaluate(sg.gradients(middle, ["v"]), point)[0][:5],
                                  head_grad)
    np.testing.assert_array_equal(sg.evaluate(sg.hessian(middle, ["v"]), point)[0][:5, :5],
                                  head_hess)


# -- argmax, argmin -----------------------------------------------------------------------------------
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_argmax_argmin_match_numpy_first_occurrence(axis, keepdims):
    values = np.array([[3, 1, 3, 0], [2, 2, 1, 1], [0, 5, 5, 0]], dtype=float)
    A = sg.var("A", shape=(3, 4))
    for ours, theirs in ((sg.argmax, np.argmax), (sg.argmin, np.argmin)):
        node = ours(A, axis=axis, keepdims=keepdims)
        got = sg.evaluate(node, {"A": values})[0]
        expected = theirs(values, axis=axis, keepdims=keepdims)
        assert node.dtype == "int64" and got.dtype == np.int64
        assert got.shape == expected.shape and got.tolist() == expected.tolist()


def test_argmax_passes_no_gradient():
    v = sg.var("v", shape=(3,))
    f = sg.sum(v) * sg.cast(sg.argmax(v), dtype="float64")
    got = sg.evaluate(sg.gradients(f, ["v"]), {"v": np.array([1.0, 4.0, 2.0])})[0]
    assert got.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(sg.GradientError):
        sg.gradients(sg.cast(sg.argmin(v), dtype="float64"), ["v"], disconnected="raise")


# -- batched evaluation ------------------------------------------------------------------------------
@pytest.mark.parametrize("batch", [(3,), (2, 2)])
def test_batched_evaluation_equals_a_loop(batch):
    A = sg.var("A", shape=(3, 4))
    outputs = [sg.min(A, axis=1), sg.min(A, keepdims=True), sg.cumsum(A, axis=0), sg.cumsum(A),
               sg.argmax(A, axis=1), sg.argmin(A), sg.argmax(A, keepdims=True), sg.prod(A),
               sg.variance(A, axis=0), sg.norm(A, 1), sg.cumprod(A, axis=1)]
    outputs += list(sg.gradients(sg.sum(sg.min(A, axis=0)) + sg.sum(sg.cumsum(A, 1) ** 2),
                                 ["A"]).outputs)
    G = sg.Graph(outputs)
    values = RNG.normal(size=batch + (3, 4))
    got = sg.evaluate(G, {"A": values}, batched=True)
    for index in np.ndindex(*batch):
        for g, expected in zip(got, sg.evaluate(G, {"A": values[index]})):
            np.testing.assert_allclose(g[index], expected, rtol=1e-14, atol=1e-15)


def test_sum_forward_gives_np_sum_s_exact_result_type_dtype_and_bits():
    forward = sg.ops.reduce.sum_op.forward
    rng = np.random.default_rng(12)
    for dtype in ("float64", "float32", "int64", "bool"):
        for shape in [(), (0,), (5,), (3, 4), (2, 0, 3), (128, 10)]:
            x = rng.normal(size=shape) * 3
            x = x > 0 if dtype == "bool" else x.astype(dtype)
            if dtype.startswith("float") and x.size > 2:
                x.flat[:3] = [np.nan, -0.0, np.inf]
            for value in (x, x.T, x[()] if x.ndim == 0 else x[::-1]):
                for axis in [()] + [(a,) for a in range(x.ndim)] + [tuple(range(x.ndim))]:
                    for keepdims in (False, True):
                        got = forward(value, axis=axis, keepdims=keepdims)
                        want = np.sum(value, axis=axis, keepdims=keepdims)
                        assert type(got) is type(want) and got.dtype == want.dtype
                        assert np.shape(got) == np.shape(want)
                        assert np.asarray(got).tobytes() == np.asarray(want).tobytes()
