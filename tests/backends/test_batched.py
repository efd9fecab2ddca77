"""Batched evaluation: inputs with extra leading batch dims evaluate in one pass and equal a loop
of unbatched evaluations (bit for bit for elementwise graphs)."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
from symgrad.evaluate import BatchedProgram
from symgrad.evaluate import batched as batched_module

from .cases import elementwise_graph, elementwise_ops, tensor_graphs
from .helpers import assert_same


def _batched_values(graph, values, batch, rng):
    out = {}
    for v in graph.inputs:
        base = np.asarray(values[v.name])
        if v.dtype == "int64":
            out[v.name] = np.broadcast_to(base, batch + base.shape).copy()
        else:
            out[v.name] = base + rng.normal(size=batch + base.shape) * 0.5
    return out


def _loop(graph, values, batch):
    results = [np.empty(batch + o.shape, dtype=o.dtype) for o in graph.outputs]
    for index in np.ndindex(*batch):
        point = {k: v[index] for k, v in values.items()}
        for result, value in zip(results, sg.evaluate(graph, point)):
            result[index] = value
    return results


@pytest.mark.parametrize("index", range(len(tensor_graphs())))
@pytest.mark.parametrize("batch", [(3,), (2, 2)])
def test_tensor_graphs_batched_equal_a_loop_of_unbatched_calls(index, batch):
    G, values = tensor_graphs()[index]
    batched = _batched_values(G, values, batch, np.random.default_rng(index))
    program = sg.compile(G, batched=True, optimize=False)
    got = program(batched)
    for g, e in zip(got, _loop(G, batched, batch)):
        if program.looped or any(n.op.name in ("matmul", "sum", "sum_to", "max", "logsumexp",
                                               "softmax", "log_softmax") for n in G.nodes):
            np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-15)   # summation order
            assert g.dtype == e.dtype
        else:
            assert_same(g, e)


@pytest.mark.parametrize("op", elementwise_ops(), ids=lambda op: op.name)
def test_elementwise_ops_batched_are_bit_identical_to_the_loop(op):
    G, names = elementwise_graph(op, shape=(2,))
    rng = np.random.default_rng(3)
    values = {n: rng.uniform(-3, 3, (5, 2)) for n in names}
    values[names[0]][0, 0] = 0.0
    for g, e in zip(sg.evaluate(G, values, batched=True), _loop(G, values, (5,))):
        assert_same(g, e)


def test_native_rules_cover_the_tensor_ops_and_the_rest_loops():
    natives, looped = set(), set()
    for G, _values in tensor_graphs():
        program = BatchedProgram(G)
        looped |= program.looped
        natives |= {n.op.name for n in G.nodes if not (n.is_input or n.is_const)} - \
            program.looped
    assert {"sum", "max", "matmul", "reshape", "transpose", "getitem", "broadcast_to",
            "softmax", "log_softmax", "logsumexp", "einsum", "inv", "det", "slogdet_sign",
            "logabsdet", "solve", "cholesky", "take", "scatter_add"} <= natives
    assert looped == {"sum_to", "concatenate", "scatter", "cross_entropy",
                      "exp_minus_onehot", "slice_axis", "pad_axis"}


def test_inputs_of_mixed_rank_broadcast_after_the_batch_dims():
    x, v = sg.var("x"), sg.var("v", shape=(3,))
    G = sg.Graph([x * v + 1.0, sg.sum(v) * x, sg.const(2.0) * sg.const(3.0)], inputs=[x, v])
    xs, vs = np.array([1.0, 2.0]), np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    a, b, c = sg.evaluate(G, {"x": xs, "v": vs}, batched=True)
    assert a.tolist() == [[2.0, 3.0, 4.0], [9.0, 11.0, 13.0]]
    assert b.tolist() == [6.0, 30.0] and c.tolist() == [6.0, 6.0]
    assert c.flags.writeable and c.flags.owndata


def test_batch_shapes_must_agree():
    x, y = sg.var("x"), sg.var("y")
    with pytest.raises(sg.InputError, match="one batch shape"):
        sg.evaluate(sg.Graph(x + y), {"x": np.zeros(3), "y": np.zeros(4)}, batched=True)
    with pytest.raises(sg.InputError, match="batch dims"):
        sg.evaluate(sg.Graph(sg.var("v", shape=(3,)) * 2), {"v": np.zeros(2)}, batched=True)


def test_a_third_derivative_over_a_grid_matches_the_scalar_program():
    x = sg.var("x")
    f = sg.exp(sg.sin(x)) * x ** 3 / (1 + x * x)
    d3 = sg.gradients(sg.gradients(sg.gradients(f, ["x"]).outputs[0], ["x"]).outputs[0], ["x"])
    grid = np.linspace(-2, 2, 101)
    for backend in ("numpy", "python"):
        got = sg.compile(d3, backend=backend, batched=True)(x=grid)[0]
        assert got.shape == (101,)
        assert_same(got, _loop(d3, {"x": grid}, (101,))[0])


# -- large batches run in cache-sized chunks of points ----------------------------------------------
@pytest.mark.parametrize("index", range(len(tensor_graphs())))
def test_chunked_batches_equal_one_whole_batch_pass(index, monkeypatch):
    G, values = tensor_graphs()[index]
    batch = (5, 3)
    batched = _batched_values(G, values, batch, np.random.default_rng(index))
    whole = sg.compile(G, batched=True, optimize=False)(batched)
    monkeypatch.setattr(batched_module, "CHUNK_BYTES", 1)     # chunks of one point
    program = sg.compile(G, batched=True, optimize=False)
    assert program.chunk == 1
    got = program(batched)
    for g, w, node in zip(got, whole, G.outputs):
        assert g.shape == batch + node.shape and g.dtype == w.dtype
        assert g.flags.writeable and g.flags.owndata
        assert_same(g, w)


def test_chunks_split_a_batch_evenly_and_keep_float32_constants_and_inputs_exact(monkeypatch):
    x = sg.var("x", dtype="float32")
    v = sg.var("v", shape=(2,), dtype="float32")
    outputs = [sg.exp(x) * v + 0.1, x, sg.const(np.float32(2.5)) * sg.const(np.float32(2.0)),
               sg.sin(x) * sg.cos(x)]
    G = sg.Graph(outputs, inputs=[x, v])
    rng = np.random.default_rng(0)
    values = {"x": rng.uniform(-1, 1, (7, 5)).astype(np.float32),
              "v": rng.uniform(-1, 1, (7, 5, 2)).astype(np.float32)}
    whole = sg.evaluate(G, values, batched=True)
    monkeypatch.setattr(batched_module, "CHUNK_BYTES", 24)    # the widest value: 2 x 4 bytes
    program = BatchedProgram(G)
    assert program.chunk == 3
    calls = []
    run = program._run
    program._run = lambda arrays, batch: calls.append(batch) or run(arrays, batch)
    got = program.run(values)
    assert calls == [(3,)] * 11 + [(2,)]                  # 35 points: 12 chunks of 3 or 2
    for g, w in zip(got, whole):
        assert_same(g, w)
        assert g.dtype == np.float32 and g.flags.owndata and g.flags.writeable
    assert got[2].shape == (7, 5) and (got[2] == 5.0).all()
    assert not np.shares_memory(got[1], values["x"])


def test_a_batch_in_another_memory_order_runs_in_one_pass(monkeypatch):
    v = sg.var("v", shape=(9,))
    G = sg.Graph(sg.sum(sg.exp(v) * v))
    monkeypatch.setattr(batched_module, "CHUNK_BYTES", 72)   # one point per chunk
    program = BatchedProgram(G)
    values = np.asfortranarray(np.random.default_rng(4).normal(size=(6, 9)))
    calls = []
    run = program._run
    program._run = lambda arrays, batch: calls.append(batch) or run(arrays, batch)
    got = program.run({"v": values})[0]
    assert calls == [(6,)]
    assert_same(got, np.sum(np.exp(values) * values, axis=1))
    program.run({"v": np.ascontiguousarray(values)})
    assert len(calls) == 7
