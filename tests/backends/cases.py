"""Graphs that exercise every op, for comparing backends with the numpy interpreter."""

from __future__ import annotations

import numpy as np

import symgrad as sg
from symgrad.ir import REGISTRY

# special values first (signed zeros, infinities, NaN, huge), then ordinary ones
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-300, 710.0, -745.0, 1e308, np.inf, -np.inf,
           np.nan]


def elementwise_ops() -> list:
    """Every registered elementwise op taking float64 arguments (read from the registry)."""
    ops = []
    for op in REGISTRY.ops.values():
        if op.elementwise and op.name not in ("where", "cast") and type(op.bprop) is tuple:
            ops.append(op)
    return ops


def elementwise_graph(op, dtype="float64", shape=()) -> tuple:
    """``op`` applied to inputs a, b, ... (params: heaviside's at0), and the input names."""
    names = "abc"[:len(op.bprop)]
    args = [sg.var(n, shape=shape, dtype=dtype) for n in names]
    params = {"at0": 0.5} if op.name == "heaviside" else {}
    return sg.Graph(op(*args, **params), inputs=args), names


def point_grid(arity: int, rng, count: int = 40) -> list:
    """Points mixing the special values with random ones."""
    points = [tuple(SPECIAL[(i * (j + 3)) % len(SPECIAL)] for j in range(arity))
              for i in range(len(SPECIAL) * 2)]
    points += [tuple(rng.uniform(-4, 4, arity)) for _ in range(count)]
    return points


def tensor_graphs() -> list:
    """(graph, inputs) covering the non-elementwise ops, where, cast and broadcasting."""
    rng = np.random.default_rng(1)
    X, Y = sg.var("X", shape=(3, 4)), sg.var("Y", shape=(4, 2))
    v, w = sg.var("v", shape=(4,)), sg.var("w", shape=(3,))
    labels = sg.var("labels", shape=(3,), dtype="int64")
    x = sg.var("x")
    values = {"X": rng.normal(size=(3, 4)), "Y": rng.normal(size=(4, 2)),
              "v": rng.normal(size=4), "w": rng.normal(size=3), "x": 0.7,
              "labels": np.array([0, 3, 1])}
    cases = [
        sg.sum(X * v, axis=1) + w, sg.max(X, axis=0) * v, sg.mean(X, axis=(0, 1)) * x,
        sg.broadcast_to(v, (3, 4)) - X, sg.ops.shape.sum_to(X, (4,)) + v,
        sg.reshape(X, (4, 3)) @ w, sg.concatenate([X, X * 2], axis=0)[1:5, ::2],
        sg.stack([v, v * x]), sg.transpose(X) @ w, X[1, 2] * X[:, None, 1:3],
        sg.ops.shape.scatter(X[::2, 1], sg.ops.shape._index_key((slice(None, None, 2), 1),
                                                                (3, 4)), (3, 4)),
        X @ Y, v @ Y, X @ v, v @ v, sg.dot(X, v),
        sg.softmax(X, axis=1), sg.log_softmax(X, axis=0), sg.logsumexp(X, axis=1),
        sg.cross_entropy(X, labels), sg.ops.composite.softmax_minus_onehot(X, labels),
        sg.where(sg.greater(X, 0), sg.sqrt(sg.abs(X)), X * x),
        sg.cast(sg.greater(X, v), dtype="float64") + sg.cast(X, dtype="float32") * 2,
        sg.ops.shape.slice_axis(X, 1, 1, 3) + 1, sg.ops.shape.pad_axis(X, 1, 1, 5, 6),
        sg.sigmoid(X) * sg.relu(X - x) + sg.softplus(v),
        *issue10_cases(X, v, labels),
    ]
    return [(sg.Graph(out), {n.name: values[n.name] for n in sg.Graph(out).inputs})
            for out in cases]


def issue10_cases(X, v, labels) -> list:
    """Gather, einsum and sg.linalg (a well-conditioned square matrix made from X)."""
    M = X[:, :3] + sg.const(4 * np.eye(3))
    sign, logdet = sg.linalg.slogdet(M)
    return [
        sg.take(X, labels, axis=1) * 2, sg.ops.gather.scatter_add(X, labels, 0, 5),
        sg.take(X * v, sg.const([[1, -1], [0, 0]]), axis=1),
        sg.ops.gather.scatter_add(X * v, sg.const([0, 2, 2, -1]), 1, 3),
        sg.einsum("ij,j,ii->i", X, v, M), sg.tril(X, 1) + sg.diag(sg.diagonal(X)) @ X,
        sg.linalg.inv(M) * sg.linalg.det(M) + sign * logdet,
        sg.linalg.solve(M, X)[:, :3] + sg.linalg.cholesky(M @ M.T), sg.linalg.solve(M, v[:3]),
    ]
