"""sg.sparsity: exact patterns on W2, block-diagonal, banded and data-movement cases; never a
missed nonzero on random graphs (hypothesis); couplings derived from the bprop records."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symgrad as sg
from benchmarks.workloads import rosen_hess_exact, rosen_scalar, rosen_vec
from symgrad.autodiff.sparsity import couplings
from symgrad.ir import REGISTRY


def dense(pattern):
    return pattern.toarray().astype(bool)


def test_pattern_is_a_boolean_csr_array():
    x = sg.var("x", (3,))
    P = sg.sparsity(sg.sin(x), [x])
    assert type(P).__name__ == "csr_array" and P.dtype == bool and P.shape == (3, 3)
    with pytest.raises(sg.GradientError, match="scalar"):
        sg.sparsity(sg.sin(x), [x], kind="hessian")
    with pytest.raises(sg.SymgradError, match="kind"):
        sg.sparsity(sg.sum(x), [x], kind="gradient")


@pytest.mark.parametrize("n", [2, 3, 40])
def test_w2_hessian_pattern_is_exactly_tridiagonal_in_both_forms(n):
    exact = rosen_hess_exact(np.linspace(-1, 1, n) + 0.3) != 0
    x = sg.var("x", (n,))
    vector = sg.sparsity(rosen_vec(x, sg.sum), [x], kind="hessian")
    xs = [sg.var(f"x{i}") for i in range(n)]
    scalar = sg.sparsity(rosen_scalar(xs), xs, kind="hessian")
    for P in (vector, scalar):
        assert P.nnz == 3 * n - 2
        np.testing.assert_array_equal(dense(P), exact)


def test_block_diagonal_hessian():
    x = sg.var("x", (12,))
    blocks = sg.reshape(x, (3, 4))
    f = sg.sum(sg.exp(sg.sum(blocks, axis=1))) + sg.sum(sg.logsumexp(blocks, axis=1))
    expected = np.kron(np.eye(3), np.ones((4, 4))).astype(bool)
    np.testing.assert_array_equal(dense(sg.sparsity(f, [x], kind="hessian")), expected)


def test_banded_hessian_and_jacobian():
    n = 9
    x = sg.var("x", (n,))
    g = sg.sin(x[2:] * x[:-2]) + x[1:-1] ** 3
    f = sg.sum(g)
    i = np.arange(n)
    band2 = np.abs(i[:, None] - i[None, :]) == 2
    hess = band2 | np.eye(n, dtype=bool)
    hess[0, 0] = hess[-1, -1] = True                       # x0 and x8 appear in the sine only
    np.testing.assert_array_equal(dense(sg.sparsity(f, [x], kind="hessian")), hess)
    jac = np.zeros((n - 2, n), dtype=bool)
    for r in range(n - 2):
        jac[r, [r, r + 1, r + 2]] = True
    np.testing.assert_array_equal(dense(sg.sparsity(g, [x])), jac)


def test_banded_constant_matrix_keeps_its_band():
    n = 10
    A = np.diag(np.full(n, 2.0)) + np.diag(np.ones(n - 1), 1) + np.diag(np.ones(n - 1), -1)
    x = sg.var("x", (n,))
    np.testing.assert_array_equal(dense(sg.sparsity(sg.const(A) @ x, [x])), A != 0)
    X = sg.var("X", (3, n))
    np.testing.assert_array_equal(dense(sg.sparsity(X @ sg.const(A), [X])),
                                  np.kron(np.eye(3), A.T) != 0)
    f = sg.sum(sg.exp(sg.const(A) @ x))                   # H = Aᵀ diag(e^Ax) A: bandwidth 2
    i = np.arange(n)
    np.testing.assert_array_equal(dense(sg.sparsity(f, [x], kind="hessian")),
                                  np.abs(i[:, None] - i[None, :]) <= 2)


def test_data_movement_reductions_and_matmul_jacobians():
    x = sg.var("x", (2, 3))
    y = sg.var("y", (3,))
    cases = {
        "reverse": (x[:, ::-1], lambda: np.eye(6, dtype=bool).reshape(2, 3, 6)[:, ::-1]),
        "transpose": (x.T, lambda: np.eye(6, dtype=bool).reshape(2, 3, 6).transpose(1, 0, 2)),
        "concat": (sg.concatenate([x[0], y]), lambda: np.vstack(
            [np.eye(9, dtype=bool)[:3], np.eye(9, dtype=bool)[6:]])),
        "sum_rows": (sg.sum(x, axis=1), lambda: np.repeat(np.eye(2, dtype=bool), 3, axis=1)),
        "matvec": (x @ y, lambda: np.hstack([np.repeat(np.eye(2, dtype=bool), 3, axis=1),
                                              np.ones((2, 3), dtype=bool)])),
        "broadcast": (x * y, lambda: np.hstack([np.eye(6, dtype=bool),
                                                np.tile(np.eye(3, dtype=bool), (2, 1))])),
    }
    for name, (node, expected) in cases.items():
        wrt = [x] if name in ("reverse", "transpose", "sum_rows") else [x, y]
        got = dense(sg.sparsity(node, wrt))
        want = expected().reshape(node.size, -1)
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_take_with_constant_indices_cumsum_and_min():
    x = sg.var("x", (5,))
    np.testing.assert_array_equal(dense(sg.sparsity(sg.take(x, [4, 0, 0]), [x])),
                                  np.eye(5, dtype=bool)[[4, 0, 0]])
    symbolic = sg.take(x, sg.var("i", (2,), dtype="int64"))       # unknown map: dense, safe
    assert dense(sg.sparsity(symbolic, [x])).all()
    assert dense(sg.sparsity(sg.cumsum(x), [x])).all()            # a superset of the triangle
    pairs = sg.min(sg.reshape(x[:4], (2, 2)), axis=1)
    np.testing.assert_array_equal(dense(sg.sparsity(pairs, [x])),
                                  [[1, 1, 0, 0, 0], [0, 0, 1, 1, 0]])


def test_non_differentiable_paths_and_dense_fallback():
    x, y = sg.var("x", (3,)), sg.var("y", (3,))
    picked = sg.where(sg.greater(y, 0), x, 2 * x)          # y only in the condition
    assert dense(sg.sparsity(picked, [x, y]))[:, 3:].sum() == 0
    logits = sg.reshape(x, (1, 3))
    ce = sg.cross_entropy(logits, sg.const(np.array([1])))   # no deps kind: dense fallback
    assert dense(sg.sparsity(ce, [x])).all()


def test_couplings_come_from_the_bprop_rules():
    a, b = sg.var("a", (3,)), sg.var("b", (3,))
    assert set(couplings(a * b)) == {(0, 1), (1, 0)}
    assert couplings(a + b) == ()
    assert couplings(sg.exp(a)) == ((0, 0),)
    assert couplings(sg.relu(a)) == ()
    assert set(couplings(a / b)) == {(0, 1), (1, 0), (1, 1)}
    assert couplings(sg.sum(a)) == ()


def test_every_op_declares_a_known_deps_kind():
    kinds = {"elementwise", "gather", "reduce", "along_axis", "matmul", "dense"}
    for op in REGISTRY.ops.values():
        assert op.deps in kinds, op.name
        if op.elementwise:
            assert op.deps == "elementwise", op.name


# -- never a missed nonzero: random graphs ------------------------------------------------------
N = 5
UNARY = [sg.sin, sg.exp, sg.tanh, sg.square, sg.relu, lambda v: v[::-1],
         lambda v: sg.concatenate([v[2:], v[:2]]), sg.softmax, lambda v: v * sg.sum(v),
         lambda v: sg.max(sg.reshape(v, (1, N)), axis=0), lambda v: MATRIX @ v,
         lambda v: v * v[0], lambda v: sg.take(v, [3, 0, 0, 4, 1]), sg.cumsum,
         lambda v: sg.min(sg.stack([v, v[::-1]]), axis=0)]
BINARY = [lambda a, b: a * b, lambda a, b: a + b, lambda a, b: a / (2 + b * b),
          lambda a, b: sg.maximum(a, b), lambda a, b: sg.where(sg.greater(a, 0), b, a),
          lambda a, b: sg.stack([a, b])[1, ::-1] * a]
MATRIX = np.where(np.random.default_rng(0).random((N, N)) < 0.3, 1.5, 0.0)

steps = st.lists(st.tuples(st.booleans(), st.integers(0, 100), st.integers(0, 100),
                           st.integers(0, 100)), min_size=1, max_size=6)


def random_graph(program):
    x = sg.var("x", (N,))
    nodes = [x]
    for binary, k, i, j in program:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        nodes.append(BINARY[k % len(BINARY)](a, b) if binary else UNARY[k % len(UNARY)](a))
    return x, nodes[-1]


@settings(max_examples=40, deadline=None)
@given(steps, st.integers(0, 2 ** 16))
def test_no_nonzero_is_ever_missed(program, seed):
    x, out = random_graph(program)
    rng = np.random.default_rng(seed)
    point = {"x": rng.uniform(-1.5, 1.5, N)}
    weights = sg.const(rng.uniform(0.5, 1.5, N))
    J = sg.evaluate(sg.jacobian(out, [x]), point)[0]
    assert not (J != 0)[~dense(sg.sparsity(out, [x]))].any()
    f = sg.sum(out * weights)
    H = sg.evaluate(sg.hessian(f, [x]), point)[0]
    assert not (H != 0)[~dense(sg.sparsity(f, [x], kind="hessian"))].any()


def test_too_dense_patterns_raise_and_dense_calls_fall_back(monkeypatch):
    module = importlib.import_module("symgrad.autodiff.sparsity")  # the package binds the name
    monkeypatch.setattr(module, "PATTERN_LIMIT", 20)
    x = sg.var("x", (6,))
    f = sg.sum(sg.softmax(x) * sg.sin(x))                 # softmax: 6 x 6 dependences
    with pytest.raises(sg.SymgradError, match="limit"):
        sg.sparsity(f, [x], kind="hessian")
    point = {"x": np.linspace(-1, 1, 6)}
    monkeypatch.setattr(module, "PATTERN_LIMIT", 1 << 25)
    expected = sg.evaluate(sg.hessian(f, [x]), point)[0]
    monkeypatch.setattr(module, "PATTERN_LIMIT", 20)
    np.testing.assert_allclose(sg.evaluate(sg.hessian(f, [x]), point)[0], expected, rtol=1e-12)
