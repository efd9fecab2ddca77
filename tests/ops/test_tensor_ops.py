"""Tensor ops: forwards against numpy, bprops against central differences, sympy rules."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from tests.helpers.gradcheck import check_gradients

RNG = np.random.default_rng(7)


def weighted_sum(node, seed=0):
    """A scalar with a non-trivial gradient: sum(node * R) for a fixed random R."""
    weights = np.random.default_rng(seed).standard_normal(node.shape)
    return sg.sum(node * sg.const(weights))


def values_for(*nodes, low=-1.0, high=1.0):
    return {n.name: RNG.uniform(low, high, n.shape) for n in nodes}


# -- broadcasting ---------------------------------------------------------------------------------
@st.composite
def broadcastable_pair(draw):
    ndim = draw(st.integers(1, 3))
    full = draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim))
    a = [d if draw(st.booleans()) else 1 for d in full]
    b = [d if draw(st.booleans()) else 1 for d in full][draw(st.integers(0, ndim)):]
    return tuple(a), tuple(b)


@settings(max_examples=15, deadline=None)
@given(broadcastable_pair())
def test_elementwise_broadcasting_gradients(shapes):
    a, b = sg.var("a", shapes[0]), sg.var("b", shapes[1])
    f = weighted_sum(sg.sin(a) * b + a / (2 + b * b) - sg.maximum(a, 0.3))
    check_gradients(sg.Graph(f), values_for(a, b))


# -- matmul ---------------------------------------------------------------------------------------
MATMUL_SHAPES = [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
                 ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)),
                 ((2, 3, 4), (4,)), ((1, 3), (3, 1))]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_forward_and_gradient(sa, sb):
    a, b = sg.var("a", sa), sg.var("b", sb)
    values = values_for(a, b)
    out = sg.evaluate(a @ b, values)[0]
    np.testing.assert_allclose(out, values["a"] @ values["b"], rtol=1e-12)
    assert (a @ b).shape == np.shape(out)
    check_gradients(sg.Graph(weighted_sum(a @ b)), values)


def test_matmul_rules_are_G_Bt_and_At_G():
    A, B = sg.var("A", (3, 4)), sg.var("B", (4, 2))
    values = values_for(A, B)
    G = RNG.standard_normal((3, 2))
    dA, dB = sg.evaluate(sg.gradients(A @ B, [A, B], grad_output=G), values)
    np.testing.assert_allclose(dA, G @ values["B"].T, rtol=1e-12)
    np.testing.assert_allclose(dB, values["A"].T @ G, rtol=1e-12)


def test_batched_matmul_sums_broadcast_batch_axes():
    A, W = sg.var("A", (5, 3, 4)), sg.var("W", (4, 2))
    values = values_for(A, W)
    G = RNG.standard_normal((5, 3, 2))
    _, dW = sg.evaluate(sg.gradients(A @ W, [A, W], grad_output=G), values)
    expected = sum(values["A"][i].T @ G[i] for i in range(5))
    np.testing.assert_allclose(dW, expected, rtol=1e-12)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)),
                                   ((2, 3), (3, 4)), ((2, 2, 3), (4, 3, 2)), ((2, 3), ())])
def test_dot_matches_numpy_and_differentiates(sa, sb):
    a, b = sg.var("a", sa), sg.var("b", sb)
    values = values_for(a, b)
    out = sg.evaluate(sg.dot(a, b), values)[0]
    np.testing.assert_allclose(out, np.dot(values["a"], values["b"]), rtol=1e-12)
    check_gradients(sg.Graph(weighted_sum(sg.dot(a, b))), values)


# -- transpose, reshape, indexing, joining --------------------------------------------------------
@pytest.mark.parametrize("axes", [None, (1, 0, 2), (2, 0, 1), (-1, 0, 1)])
def test_transpose(axes):
    x = sg.var("x", (2, 3, 4))
    values = values_for(x)
    np.testing.assert_array_equal(sg.evaluate(sg.transpose(x, axes), values)[0],
                                  np.transpose(values["x"], axes))
    check_gradients(sg.Graph(weighted_sum(sg.transpose(x, axes))), values)


def test_dot_T_is_matrix_transpose_and_double_transpose_vanishes():
    x = sg.var("x", (2, 3))
    assert x.T.shape == (3, 2) and x.T.T is x
    check_gradients(sg.Graph(weighted_sum(x.T @ x)), values_for(x))


INDICES = [np.s_[1:], np.s_[:, 0], np.s_[2, 1], np.s_[-1], np.s_[-2:, ::2], np.s_[::-1],
           np.s_[3:0:-2, 1:], np.s_[None, ..., -1], np.s_[..., 1:2], np.s_[1, None]]


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_getitem_forward_and_scatter_gradient(index):
    x = sg.var("x", (4, 3))
    values = values_for(x)
    np.testing.assert_array_equal(sg.evaluate(x[index], values)[0], values["x"][index])
    assert x[index].shape == values["x"][index].shape
    check_gradients(sg.Graph(weighted_sum(x[index] * x[index])), values)


def test_overlapping_slices_accumulate_gradients():
    x = sg.var("x", (5,))
    f = sg.sum(x[1:] * x[:-1]) + x[2] ** 3
    values = values_for(x)
    grad = sg.evaluate(sg.gradients(f, [x]), values)[0]
    v = values["x"]
    expected = np.r_[0, v[:-1]] + np.r_[v[1:], 0]
    expected[2] += 3 * v[2] ** 2
    np.testing.assert_allclose(grad, expected, rtol=1e-12)


def test_second_derivative_through_getitem():
    x = sg.var("x", (4,))
    f = sg.sum(x[1:] ** 3)
    v = values_for(x)["x"]
    H = sg.evaluate(sg.hessian(f, [x]), {"x": v})[0]
    np.testing.assert_allclose(H, np.diag(np.r_[0, 6 * v[1:]]), rtol=1e-12)


def test_reshape_concatenate_stack_broadcast_to():
    x, y = sg.var("x", (2, 3)), sg.var("y", (3,))
    values = values_for(x, y)
    parts = [sg.reshape(x, (3, 2)), sg.reshape(x, (-1,)), sg.concatenate([x, y[None]], axis=0),
             sg.stack([y, 2 * y], axis=1), sg.broadcast_to(y, (4, 2, 3))]
    expected = [values["x"].reshape(3, 2), values["x"].reshape(-1),
                np.concatenate([values["x"], values["y"][None]]),
                np.stack([values["y"], 2 * values["y"]], axis=1),
                np.broadcast_to(values["y"], (4, 2, 3))]
    for part, want in zip(parts, expected):
        np.testing.assert_allclose(sg.evaluate(sg.Graph(part, [x, y]), values)[0], want,
                                   rtol=1e-12)
        check_gradients(sg.Graph(weighted_sum(part), [x, y]), values)


# -- reductions -----------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2), (2, 1, 0)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "logsumexp"])
def test_reductions(reduce, axis, keepdims):
    x = sg.var("x", (2, 3, 4))
    values = {"x": RNG.permutation(24).reshape(2, 3, 4) / 7.0}       # distinct: no max ties
    fn = getattr(sg, reduce)
    out = fn(x, axis=axis, keepdims=keepdims)
    v = values["x"]
    if reduce == "logsumexp":
        want = np.log(np.sum(np.exp(v), axis=axis, keepdims=keepdims))
    else:
        want = getattr(np, reduce)(v, axis=axis, keepdims=keepdims)
    got = sg.evaluate(out, values)[0]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert out.shape == np.shape(want)
    check_gradients(sg.Graph(weighted_sum(out)), values)


def test_max_splits_ties_evenly():
    x = sg.var("x", (2, 4))
    grad = sg.evaluate(sg.gradients(sg.sum(sg.max(x, axis=1)), [x]),
                       {"x": [[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 5.0]]})[0]
    np.testing.assert_allclose(grad, [[0, 0.5, 0.5, 0], [0.25] * 4])
    grad = sg.evaluate(sg.gradients(sg.max(x), [x]), {"x": np.ones((2, 4))})[0]
    np.testing.assert_allclose(grad, np.full((2, 4), 1 / 8))


def test_sum_of_int_and_bool_follows_numpy_dtypes():
    y = sg.var("y", (3,), "int64")
    assert sg.sum(y).dtype == "int64" and sg.mean(y).dtype == "float64"
    assert sg.evaluate(sg.mean(y), {"y": [1, 2, 4]})[0] == pytest.approx(7 / 3)


# -- softmax family -------------------------------------------------------------------------------
def softmax_np(v, axis):
    e = np.exp(v - v.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 0, (0, 1)])
def test_softmax_and_log_softmax(axis):
    x = sg.var("x", (3, 4))
    values = values_for(x, low=-3, high=3)
    want = softmax_np(values["x"], axis)
    np.testing.assert_allclose(sg.evaluate(sg.softmax(x, axis), values)[0], want, rtol=1e-12)
    np.testing.assert_allclose(sg.evaluate(sg.log_softmax(x, axis), values)[0], np.log(want),
                               rtol=1e-12)
    check_gradients(sg.Graph(weighted_sum(sg.softmax(x, axis))), values)
    check_gradients(sg.Graph(weighted_sum(sg.log_softmax(x, axis))), values)


def test_softmax_family_second_derivatives_match_closed_forms():
    x = sg.var("x", (4,))
    v = values_for(x, low=-2, high=2)["x"]
    p = softmax_np(v, 0)
    H = sg.evaluate(sg.hessian(sg.logsumexp(x), [x]), {"x": v})[0]
    np.testing.assert_allclose(H, np.diag(p) - np.outer(p, p), rtol=1e-10, atol=1e-14)
    H = sg.evaluate(sg.hessian(sg.log_softmax(x)[1], [x]), {"x": v})[0]
    np.testing.assert_allclose(H, -(np.diag(p) - np.outer(p, p)), rtol=1e-10, atol=1e-14)


def test_cross_entropy_value_and_gradient():
    logits = sg.var("z", (5, 3))
    labels = np.array([0, 2, 1, 2, 0])
    values = values_for(logits, low=-2, high=2)
    loss = sg.cross_entropy(logits, sg.const(labels))
    p = softmax_np(values["z"], 1)
    want = -np.mean(np.log(p[np.arange(5), labels]))
    assert sg.evaluate(loss, values)[0] == pytest.approx(want, rel=1e-12)
    check_gradients(sg.Graph(loss), values)
    grad = sg.evaluate(sg.gradients(loss, [logits]), values)[0]
    onehot = np.eye(3)[labels]
    np.testing.assert_allclose(grad, (p - onehot) / 5, rtol=1e-12)


def test_cross_entropy_has_second_derivatives():
    z = sg.var("z", (2, 3))
    labels = np.array([1, 0])
    v = values_for(z)["z"]
    H = sg.evaluate(sg.hessian(sg.cross_entropy(z, sg.const(labels)), [z]), {"z": v})[0]
    p = softmax_np(v, 1)
    want = np.zeros((6, 6))
    for i in range(2):
        want[3 * i:3 * i + 3, 3 * i:3 * i + 3] = (np.diag(p[i]) - np.outer(p[i], p[i])) / 2
    np.testing.assert_allclose(H, want, rtol=1e-10, atol=1e-14)


def test_cross_entropy_int_labels_input_and_errors():
    z, y = sg.var("z", (2, 3)), sg.var("y", (2,), "int64")
    loss = sg.cross_entropy(z, y)
    B = sg.gradients(loss, [z])
    zv = np.zeros((2, 3))
    np.testing.assert_allclose(sg.evaluate(B, {"z": zv, "y": [0, 2]})[0],
                               (np.full((2, 3), 1 / 3) - np.eye(3)[[0, 2]]) / 2)
    for bad in ([0, 3], [-1, 0]):
        with pytest.raises(sg.InputError, match="out of range for 3 classes"):
            sg.evaluate(loss, {"z": zv, "y": bad})
        with pytest.raises(sg.InputError, match="out of range"):
            sg.evaluate(B, {"z": zv, "y": bad})
    with pytest.raises(sg.GradientError):
        sg.gradients(loss, [y])


def test_nll_and_exp_minus_onehot_gradients_match_central_differences():
    L, y = sg.var("L", (3, 4)), sg.const(np.array([3, 0, 1]))
    values = values_for(L, low=-3, high=-0.1)
    check_gradients(sg.Graph(sg.ops.composite.nll(L, y)), values)
    emo = sg.ops.composite.exp_minus_onehot(L, y)
    check_gradients(sg.Graph(sg.sum(emo * emo)), values)
    for dtype in ("float64", "float32"):                 # np.mean's value, bit for bit
        Lt, v = sg.var("L", (3, 4), dtype), values["L"].astype(dtype) * 1e3
        got = sg.evaluate(sg.ops.composite.nll(Lt, y), {"L": v})[0]
        assert got.dtype == dtype and got == -np.mean(v[[0, 1, 2], [3, 0, 1]])
    np.testing.assert_array_equal(sg.evaluate(emo, values)[0],
                                  np.exp(values["L"]) - np.eye(4)[[3, 0, 1]])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape, axis", [((128, 10), (1,)), ((3, 4, 5), -1), ((2, 64), 1),
                                         ((7, 65), (1,)), ((1, 9), (1,)), ((6, 3), (0,))])
def test_softmax_row_max_is_the_left_fold_of_maximum_on_short_rows(shape, axis, dtype):
    from symgrad.ops.composite import SHORT_ROW, _max_kept
    special = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45])
    rng = np.random.default_rng(11)
    for pool in (special, special[:2], special[:6]):          # ties of +-0 (only), NaN
        x = rng.choice(pool, size=shape).astype(dtype)
        got = _max_kept(x, axis)
        want = x.max(axis=axis, keepdims=True)
        assert got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True)
        fiber = np.moveaxis(x, np.atleast_1d(axis)[0], -1)
        if fiber.shape[-1] <= SHORT_ROW:                        # the scalarized form's fold
            fold = fiber[..., :1]
            for j in range(1, fiber.shape[-1]):
                fold = np.maximum(fold, fiber[..., j:j + 1])
            fold = np.moveaxis(fold, -1, np.atleast_1d(axis)[0])
            assert np.array_equal(got, fold, equal_nan=True)
            assert (np.signbit(got) == np.signbit(fold))[~np.isnan(got)].all()


def stable_reference(v, labels):
    """Cross-entropy and its gradient in max-shifted numpy (no extended precision)."""
    shifted = v - v.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    grad = np.exp(log_p)
    grad[rows, labels] -= 1
    return -np.mean(log_p[rows, labels]), grad / len(labels), log_p


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_stability_at_thousand_logits(dtype):
    v = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0],
                  [1000.0, 1000.0, -1000.0]], dtype=dtype)
    labels = np.array([1, 2, 0])
    z, y = sg.var("z", (3, 3), dtype), sg.var("y", (3,), "int64")
    outputs = [sg.cross_entropy(z, y), sg.logsumexp(z, axis=1), sg.log_softmax(z),
               sg.softmax(z)]
    grads = [sg.gradients(f if f.shape == () else sg.sum(f * f), [z]).outputs[0]
             for f in outputs]
    got = sg.evaluate(sg.Graph(outputs + grads), {"z": v, "y": labels})
    assert all(np.all(np.isfinite(g)) for g in got)
    loss, grad, log_p = stable_reference(v.astype(np.float64), labels)
    assert got[0] == pytest.approx(loss, rel=1e-6)
    np.testing.assert_allclose(got[2], log_p, rtol=1e-6)
    np.testing.assert_allclose(got[4], grad, rtol=1e-6, atol=1e-7)
    assert all(g.dtype == np.dtype(dtype) for g in got)


# -- dtypes ---------------------------------------------------------------------------------------
def test_float32_graph_stays_float32_through_gradients():
    X, W = sg.var("X", (4, 3), "float32"), sg.var("W", (3, 2), "float32")
    b, y = sg.var("b", (2,), "float32"), sg.var("y", (4,), "int64")
    h = sg.relu(X @ W + b)
    f = (sg.cross_entropy(h, y) + 0.5 * sg.mean(sg.softmax(h) ** 2) + sg.max(h)
         + sg.logsumexp(h[1:, ::-1].T) + sg.sum(sg.log_softmax(sg.dot(X, W), axis=0)))
    B = sg.gradients(f, [W, b, X])
    assert all(n.dtype in ("float32", "int64", "bool") for n in B.nodes), \
        [n for n in B.nodes if n.dtype == "float64"]
    out = sg.evaluate(B, {"X": RNG.standard_normal((4, 3)), "W": RNG.standard_normal((3, 2)),
                          "b": np.zeros(2), "y": [0, 1, 1, 0]})
    assert [o.dtype for o in out] == [np.float32] * 3


# -- sympy rules ----------------------------------------------------------------------------------
def symbols_like(name, shape):
    array = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        array[idx] = sympy.Symbol(f"{name}_" + "_".join(map(str, idx)))
    return array


SYMPY_CASES = [
    lambda a, b: a @ b, lambda a, b: a.T, lambda a, b: a[1:, ::-1], lambda a, b: a[0],
    lambda a, b: sg.sum(a, axis=0), lambda a, b: sg.max(a, axis=1), lambda a, b: sg.mean(a),
    lambda a, b: sg.softmax(a), lambda a, b: sg.log_softmax(a, axis=0),
    lambda a, b: sg.logsumexp(a, axis=1), lambda a, b: sg.transpose(a[None], (1, 0, 2)),
    lambda a, b: sg.cross_entropy(a, sg.const(np.array([1, 0]))),
    lambda a, b: sg.ops.composite.softmax_minus_onehot(a, sg.const(np.array([2, 1]))),
    lambda a, b: sg.ops.composite.nll(sg.log_softmax(a, axis=1), sg.const(np.array([2, 0]))),
    lambda a, b: sg.ops.shape.scatter(a[:, 0], sg.ops.shape._index_key(np.s_[:, 1], (2, 3)),
                                      (2, 3)),
]


@pytest.mark.parametrize("case", range(len(SYMPY_CASES)))
def test_sympy_rules_agree_with_numpy_forwards(case):
    a, b = sg.var("a", (2, 3)), sg.var("b", (3,))
    node = SYMPY_CASES[case](a, b)
    values = {"a": RNG.standard_normal((2, 3)), "b": RNG.standard_normal(3)}
    env = {"a": symbols_like("a", (2, 3)), "b": symbols_like("b", (3,))}
    for n in sg.Graph(node).nodes:                       # a minimal exporter, in topo order
        if n.is_input:
            continue
        if n.is_const:
            env[n] = np.vectorize(sympy.nsimplify, otypes=[object])(n.value)
            continue
        args = [env[p.name] if p.is_input else env[p] for p in n.inputs]
        env[n] = np.asarray(n.op.sympy(sympy, *args, **n.kwargs), dtype=object)
    subs = {sym: val for name in ("a", "b") for sym, val in
            zip(env[name].ravel(), values[name].ravel())}
    got = np.vectorize(lambda e: float(sympy.sympify(e).evalf(subs=subs)),
                       otypes=[float])(env[node])
    want = sg.evaluate(sg.Graph(node, [a, b]), values)[0]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


# -- the evaluator's in-place reuse of dead buffers ---------------------------------------
def test_in_place_reuse_never_overwrites_live_views_inputs_or_outputs():
    x = sg.var("x", (2, 3))
    a = x * 2.0                                  # a fresh buffer
    view, flat = a.T, sg.reshape(a, (6,))        # views of it, used after a's last direct use
    b = sg.exp(a + 1.0)
    outputs = [view @ b, flat * 3.0, a * 1.5, sg.sum(b - a)]
    v = RNG.standard_normal((2, 3))
    original = v.copy()
    program = sg.compile(sg.Graph(outputs + [a]))
    assert program.program, "compiled program is empty"
    got = program(x=v)
    av = v * 2
    bv = np.exp(av + 1)
    for value, want in zip(got, [av.T @ bv, av.reshape(6) * 3, av * 1.5, np.sum(bv - av), av]):
        np.testing.assert_allclose(value, want, rtol=1e-12)
    np.testing.assert_array_equal(v, original)
    again = program(x=v)                         # a second run sees the same values
    for first, second in zip(got, again):
        np.testing.assert_array_equal(first, second)
