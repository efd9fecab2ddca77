"""Colourings (valid star colourings, structurally orthogonal column groups) and the compressed
sparse=True Jacobian/Hessian, blocks=True, and dense calls through colouring, checked against
closed forms and central differences."""

from __future__ import annotations

import importlib
import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import sparse

import symgrad as sg
from benchmarks.workloads import rosen_hess_exact, rosen_scalar, rosen_vec, w2_x0
from symgrad.autodiff.backprop import build_grad, seed_of
from symgrad.autodiff.coloring import column_colouring, star_colouring
from symgrad.autodiff.jacobian import jacobian_rows
from tests.autodiff.test_sparsity import N, random_graph


def is_star_colouring(graph: nx.Graph, colour) -> bool:
    """Adjacent vertices differ and no path on four vertices uses only two colours (brute
    force over every path a-b-c-d)."""
    if any(colour[u] == colour[v] for u, v in graph.edges):
        return False
    for b, c in itertools.permutations(graph.nodes, 2):
        if not graph.has_edge(b, c):
            continue
        for a in graph[b]:
            for d in graph[c]:
                if len({a, b, c, d}) == 4 and colour[a] == colour[c] and colour[b] == colour[d]:
                    return False
    return True


def symmetric_pattern(graph: nx.Graph, n: int):
    dense = nx.to_numpy_array(graph, nodelist=range(n)).astype(bool) | np.eye(n, dtype=bool)
    return sparse.csr_array(dense)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 14), st.floats(0.05, 0.7), st.integers(0, 10 ** 6))
def test_star_colouring_is_valid_on_random_graphs(n, p, seed):
    graph = nx.gnp_random_graph(n, p, seed=seed)
    colours = star_colouring(symmetric_pattern(graph, n))
    assert is_star_colouring(graph, colours)


def test_star_colouring_of_a_path_and_a_star_uses_few_colours():
    path = nx.path_graph(50)
    colours = star_colouring(symmetric_pattern(path, 50))
    assert is_star_colouring(path, colours) and colours.max() + 1 == 3
    star = nx.star_graph(20)                     # arrow-shaped Hessian: 2 colours suffice
    assert star_colouring(symmetric_pattern(star, 21)).max() + 1 == 2


def test_checker_rejects_a_two_coloured_path_of_four():
    assert not is_star_colouring(nx.path_graph(4), [0, 1, 0, 1])


def test_column_colouring_groups_structurally_orthogonal_columns():
    rng = np.random.default_rng(3)
    P = sparse.csr_array(rng.random((30, 20)) < 0.1)
    colours = column_colouring(P)
    dense = P.toarray()
    for c in range(colours.max() + 1):
        assert (dense[:, colours == c].sum(axis=1) <= 1).all()


# -- sparse=True ---------------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["vector", "scalar"])
def test_w2_sparse_hessian_matches_the_closed_form_with_three_colours(form):
    n = 60
    x0 = w2_x0(n)
    if form == "vector":
        x = sg.var("x", (n,))
        f, wrt, values = rosen_vec(x, sg.sum), [x], {"x": x0}
    else:
        wrt = [sg.var(f"x{i}") for i in range(n)]
        f, values = rosen_scalar(wrt), {f"x{i}": v for i, v in enumerate(x0)}
    H = sg.hessian(f, wrt, sparse=True)
    assert H.outputs[0].shape == (n, 3)                 # three Hessian-vector products
    for got in (sg.evaluate(H, values)[0], sg.compile(H)(**values)[0]):
        assert isinstance(got, sparse.csr_array) and got.shape == (n, n)
        exact = rosen_hess_exact(x0)
        assert got.nnz == 3 * n - 2
        np.testing.assert_array_equal(got.toarray() != 0, exact != 0)
        assert np.abs(got.toarray() - exact).max() <= 1e-12 * np.abs(exact).max()


def numeric_jacobian(fn, name, point, h=1e-6):
    base = point[name]
    cols = []
    for j in range(base.size):
        e = np.zeros_like(base)
        e.flat[j] = h
        cols.append((np.ravel(fn(**{**point, name: base + e})[0])
                     - np.ravel(fn(**{**point, name: base - e})[0])) / (2 * h))
    return np.stack(cols, axis=1)


def test_sparse_jacobian_picks_forward_for_tall_and_reverse_for_wide_patterns():
    x = sg.var("x", (8,))
    point = {"x": np.linspace(-1, 1, 8)}
    tall = sg.concatenate([sg.sin(x), x[1:] * x[:-1]])
    wide = sg.stack([sg.sum(x[:4] ** 2), sg.sum(sg.exp(x[4:]))])
    for node, compressed in ((tall, (15, 2)), (wide, (1, 8))):
        J = sg.jacobian(node, [x], sparse=True)
        assert J.outputs[0].shape == compressed
        got = sg.evaluate(J, point)[0].toarray()
        expected = numeric_jacobian(sg.compile(sg.Graph(node)), "x", point)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def test_float32_sparse_hessian_stays_float32():
    x = sg.var("x", (6,), dtype="float32")
    H = sg.hessian(rosen_vec(x, sg.sum), [x], sparse=True)
    got = sg.evaluate(H, {"x": w2_x0(6).astype(np.float32)})[0]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.toarray(), rosen_hess_exact(w2_x0(6).astype(np.float32)),
                               rtol=1e-5, atol=1e-3)


def test_sparse_calls_with_no_dependence_give_empty_matrices():
    x, y = sg.var("x", (3,)), sg.var("y")
    J = sg.jacobian(sg.sin(y) * sg.const(np.ones(2)), [x], sparse=True)
    got = sg.evaluate(J, {"y": 1.0, "x": np.zeros(3)})[0]
    assert got.shape == (2, 3) and got.nnz == 0
    H = sg.hessian(sg.sum(x) + y, [x], sparse=True)
    assert sg.evaluate(H, {"x": np.zeros(3), "y": 0.0})[0].nnz == 0


# -- blocks and dense -----------------------------------------------------------------------------
def test_blocks_have_jax_layout():
    A, b = sg.var("A", (2, 3)), sg.var("b", (3,))
    out = sg.sin(A) * b
    blocks = sg.jacobian(out, [A, b], blocks=True)
    assert [o.shape for o in blocks.outputs] == [(2, 3, 2, 3), (2, 3, 3)]
    point = {"A": np.arange(6.0).reshape(2, 3) / 7, "b": np.array([0.5, -1.0, 2.0])}
    dA, db = sg.evaluate(blocks, point)
    fn = sg.compile(sg.Graph(out))
    np.testing.assert_allclose(dA.reshape(6, 6), numeric_jacobian(fn, "A", point), atol=1e-8)
    np.testing.assert_allclose(db.reshape(6, 3), numeric_jacobian(fn, "b", point), atol=1e-8)
    with pytest.raises(sg.SymgradError, match="exclude"):
        sg.jacobian(out, [A], sparse=True, blocks=True)


def test_dense_calls_use_fewer_sweeps_and_keep_their_values():
    n = 40
    x = sg.var("x", (n,))
    x0 = w2_x0(n)
    H = sg.hessian(rosen_vec(x, sg.sum), [x])
    np.testing.assert_allclose(sg.evaluate(H, {"x": x0})[0], rosen_hess_exact(x0), rtol=1e-12,
                               atol=1e-9)
    assert len(H) < 150                                 # 3 HVPs, not 40 rows
    tall = sg.sin(sg.var("s") * sg.const(np.arange(1.0, 31.0)))
    J = sg.jacobian(tall, ["s"])                        # 1 input, 30 outputs: one forward sweep
    assert J.outputs[0].shape == (30, 1) and len(J) < 20
    np.testing.assert_allclose(sg.evaluate(J, {"s": 0.3})[0][:, 0],
                               np.arange(1, 31) * np.cos(0.3 * np.arange(1, 31)), rtol=1e-12)


def test_dense_jacobian_by_colouring_matches_differences():
    x = sg.var("x", (12,))
    g = sg.sin(x[2:] * x[:-2]) + x[1:-1] ** 3
    J = sg.jacobian(g, [x])
    point = {"x": np.linspace(-1, 1, 12)}
    np.testing.assert_allclose(sg.evaluate(J, point)[0],
                               numeric_jacobian(sg.compile(sg.Graph(g)), "x", point),
                               rtol=1e-6, atol=1e-8)


def test_dense_jacobian_by_row_colouring_matches_differences():
    x = sg.var("x", (24,))
    g = sg.sum(sg.reshape(x, (6, 4)) ** 3, axis=1)        # disjoint rows: one reverse sweep
    J = sg.jacobian(g, [x])
    assert len(J) < 40
    point = {"x": np.linspace(-1, 1, 24)}
    np.testing.assert_allclose(sg.evaluate(J, point)[0],
                               numeric_jacobian(sg.compile(sg.Graph(g)), "x", point),
                               rtol=1e-6, atol=1e-8)


# -- random graphs: compressed == row by row ----------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 100), st.integers(0, 100),
                          st.integers(0, 100)), min_size=1, max_size=6), st.integers(0, 2 ** 16))
def test_sparse_hessian_and_jacobian_equal_the_row_by_row_matrices(program, seed):
    x, out = random_graph(program)
    rng = np.random.default_rng(seed)
    point = {"x": rng.uniform(-1.5, 1.5, N)}
    f = sg.sum(out * sg.const(rng.uniform(0.5, 1.5, N)))
    grad = build_grad(f, seed_of(f, None), [x]).get(x)
    if grad is not None:
        rows = sg.evaluate(sg.Graph(jacobian_rows([grad], [x]), [x]), point)[0]
        got = sg.evaluate(sg.hessian(f, [x], sparse=True), point)[0].toarray()
        np.testing.assert_allclose(got, rows, rtol=1e-10, atol=1e-12 * np.abs(rows).max())
    rows = sg.evaluate(sg.Graph(jacobian_rows([out], [x]), [x]), point)[0]
    got = sg.evaluate(sg.jacobian(out, [x], sparse=True), point)[0].toarray()
    np.testing.assert_allclose(got, rows, rtol=1e-10, atol=1e-12 * np.abs(rows).max())


def test_dense_decompression_by_matmul_for_many_colours(monkeypatch):
    jacobian_module = importlib.import_module("symgrad.autodiff.jacobian")
    monkeypatch.setattr(jacobian_module, "SPREAD_BY_WHERE", 1)
    n = 30
    x = sg.var("x", (n,))
    x0 = w2_x0(n)
    H = sg.hessian(rosen_vec(x, sg.sum), [x])
    assert "matmul" in {node.op.name for node in H.nodes}
    np.testing.assert_allclose(sg.evaluate(H, {"x": x0})[0], rosen_hess_exact(x0), rtol=1e-12,
                               atol=1e-9)
    g = sg.sum(sg.reshape(x, (6, 5)) ** 3, axis=1)
    J = sg.jacobian(g, [x])
    expected = np.kron(np.eye(6), np.ones((1, 5))) * 3 * x0 ** 2
    np.testing.assert_allclose(sg.evaluate(J, {"x": x0})[0], expected, rtol=1e-12)
