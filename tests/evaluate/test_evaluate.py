"""evaluate() and compile(): input validation (API §5), one computation per node, a schedule
resolved once, values freed after their last use, 0-d scalars and preserved dtypes."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

import symgrad as sg
from symgrad.ir import OpDef, intern

x, y = sg.var("x"), sg.var("y")
k = sg.var("k", dtype="int64")
v = sg.var("v", shape=(3,))


# -- InputError paths ------------------------------------------------------------------------------
@pytest.mark.parametrize("inputs, pattern", [
    ({"x": 1.0}, "missing input 'y'"),
    ({"x": 1.0, "y": 2.0, "z": 3.0}, "unknown input.*'z'"),
    ({"x": [1.0, 2.0], "y": 2.0}, "'x'.*shape"),
    ({"x": "one", "y": 2.0}, "'x'.*numbers"),
    ({"x": None, "y": 2.0}, "'x'"),
    ({"x": {"a": 1}, "y": 2.0}, "'x'"),
    ({"x": 1 + 2j, "y": 2.0}, "'x'"),
    ({x: 1.0, "x": 1.0, "y": 2.0}, "twice"),
    ({sg.sin(x): 1.0, "y": 2.0}, "input nodes"),
    ({3: 1.0, "y": 2.0}, "names or nodes"),
])
def test_bad_inputs_raise_input_error(inputs, pattern):
    G = sg.Graph(x * y)
    with pytest.raises(sg.InputError, match=pattern):
        sg.evaluate(G, inputs)
    with pytest.raises(sg.InputError, match=pattern):
        sg.compile(G)(inputs)


def test_floats_for_an_int64_input_are_an_input_error():
    G = sg.Graph(x * k)
    with pytest.raises(sg.InputError, match="int64"):
        sg.evaluate(G, {"x": 1.0, "k": 1.5})
    with pytest.raises(sg.InputError, match="int64"):
        sg.evaluate(G, {"x": 1.0, "k": np.array(2.0)})
    assert float(sg.evaluate(G, {"x": 1.5, "k": np.int32(2)})[0]) == 3.0


def test_wrong_shape_for_a_vector_input():
    G = sg.Graph(sg.sin(v))
    with pytest.raises(sg.InputError, match=r"expected shape \(3,\), got \(2,\)"):
        sg.evaluate(G, {"v": [1.0, 2.0]})
    with pytest.raises(sg.InputError, match="shape"):
        sg.evaluate(G, {"v": 1.0})


def test_inputs_must_be_a_mapping_and_symbolic_values_are_rejected():
    G = sg.Graph(x * y)
    with pytest.raises(sg.InputError, match="mapping"):
        sg.evaluate(G, [1.0, 2.0])
    with pytest.raises(sg.InputError, match="symbolic"):
        sg.evaluate(G, {"x": y, "y": 2.0})


def test_graph_whose_inputs_miss_a_used_input_is_an_input_error():
    with pytest.raises(sg.InputError, match="miss 'y'"):
        sg.Graph(x * y, inputs=[x])
    with pytest.raises(sg.InputError, match="miss 'x'"):
        sg.Graph(x * y, inputs=["y"])


# -- keys, results ---------------------------------------------------------------------------------
def test_nodes_and_names_as_keys_and_keyword_calls():
    G = sg.Graph([x - y, x * y])
    expected = [-1.0, 6.0]
    assert [float(a) for a in sg.evaluate(G, {x: 2.0, y: 3.0})] == expected
    assert [float(a) for a in sg.evaluate(G, {"x": 2.0, y: 3.0})] == expected
    assert [float(a) for a in sg.compile(G)(x=2.0, y=3.0)] == expected


def test_scalars_come_back_as_zero_dimensional_arrays():
    c = sg.const(2.5)
    G = sg.Graph([x * y, x, c, sg.sin(v)], inputs=[x, y, v])
    out = sg.evaluate(G, {"x": 1.0, "y": 2.0, "v": np.zeros(3)})
    assert [type(a) for a in out] == [np.ndarray] * 4
    assert [a.shape for a in out] == [(), (), (), (3,)]
    assert float(out[2]) == 2.5


def test_float32_is_preserved_and_python_floats_are_converted():
    x32 = sg.var("x", dtype="float32")
    G = sg.Graph([sg.exp(x32) * 2.0 + 1, sg.gradients(sg.tanh(x32) * x32, ["x"]).outputs[0]])
    out = sg.evaluate(G, {"x": 0.5})
    assert [a.dtype for a in out] == [np.float32, np.float32]
    np.testing.assert_allclose(out[0], np.exp(0.5) * 2 + 1, rtol=1e-6)


def test_evaluation_does_not_modify_inputs_or_constants():
    w = sg.var("w", shape=(4,))
    c = sg.const(np.array([1.0, 2.0, 3.0, 4.0]))
    G = sg.Graph(sg.exp(sg.sin(w * c) + c) * 2.0)
    value = np.array([0.1, 0.2, 0.3, 0.4])
    first = sg.evaluate(G, {"w": value})[0]
    assert value.tolist() == [0.1, 0.2, 0.3, 0.4]
    assert c.value.tolist() == [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(sg.evaluate(G, {"w": value})[0], first)
    np.testing.assert_allclose(first, np.exp(np.sin(value * [1, 2, 3, 4]) + [1, 2, 3, 4]) * 2)


# -- compile: the schedule is resolved once --------------------------------------------------------
@pytest.mark.parametrize("backend", ["numpy", "python"])
def test_compile_resolves_the_schedule_once_without_sorting_again(monkeypatch, backend):
    from symgrad.ir import graph as graph_module, traversal
    G = sg.Graph(sg.sin(x) * y + sg.exp(x))
    calls = []
    for module in (graph_module, traversal):
        original = module.toposort
        monkeypatch.setattr(module, "toposort", lambda *a, _f=original, **k: calls.append(1)
                            or _f(*a, **k))
    fn = sg.compile(G, backend=backend, optimize=False)
    assert calls == []                        # the graph's own listing is the schedule
    first, second = fn(x=0.3, y=2.0), fn({"x": 0.3, "y": 2.0})
    assert calls == []
    assert float(first[0]) == float(second[0]) == np.sin(0.3) * 2 + np.exp(0.3)


# -- each node computed once -----------------------------------------------------------------------
def _counting_op(calls: list):
    def forward(a):
        calls.append(1)
        return np.sin(a)
    return OpDef("counted_sin", infer=lambda a: (a.shape, a.dtype), forward=forward,
                 bprop=(lambda g, out, a: g * sg.cos(a),), sympy=None, elementwise=True)


def test_each_needed_node_is_computed_once():
    calls = []
    t = intern(_counting_op(calls), (x,))
    f = t * t + sg.exp(t) * y + t / (1 + t * t)
    B = sg.gradients(f, ["x", "y"])
    sg.evaluate(sg.Graph(f), {"x": 0.4, "y": 1.0})
    assert len(calls) == 1
    calls.clear()
    sg.evaluate(B, {"x": 0.4, "y": 1.0})     # B's outputs reuse t in many places
    assert len(calls) == 1
    calls.clear()
    sg.evaluate(sg.Graph(y * 2.0, inputs=[x, y]), {"x": 0.4, "y": 1.0})
    assert calls == []                       # nodes the outputs do not need are not computed


# -- values are freed after their last use ---------------------------------------------------------
def test_peak_live_slots_stay_small_on_a_long_chain():
    node = x
    for _ in range(2000):
        node = sg.tanh(node) + x
    fn = sg.compile(sg.Graph(node))
    live, peak = {fn.inputs[0][2]}, 0
    for *_step, out, frees in fn.program:
        live.add(out)
        peak = max(peak, len(live))
        live.difference_update(frees)
    assert len(fn.program) == 4000
    assert peak <= 3, peak


def test_dead_arrays_are_released_during_evaluation():
    alive: list = []     # weak references to every array produced so far
    most: list = [0]

    class Tracked(np.ndarray):
        pass

    def forward(a):
        most[0] = max(most[0], sum(ref() is not None for ref in alive))
        out = (np.asarray(a) * 0.5 + 1.0).view(Tracked)
        alive.append(weakref.ref(out))
        return out

    op = OpDef("tracked", infer=lambda a: (a.shape, a.dtype), forward=forward,
               bprop=(None,), sympy=None)
    w = sg.var("w", shape=(1000,))
    node = w
    for _ in range(200):
        node = intern(op, (node,))
    out = sg.evaluate(sg.Graph(node), {"w": np.zeros(1000)})[0]
    assert most[0] <= 2, most[0]
    assert len(alive) == 200
    np.testing.assert_allclose(out, 2.0 * (1 - 0.5 ** 200))


# -- buffers reused in place never change a result ----------------------------------------------------
def test_random_vector_dags_match_numpy_computed_alongside():
    rng = np.random.default_rng(5)
    w = sg.var("w", shape=(64,))
    value = rng.uniform(-1, 1, size=64)
    original = value.copy()
    for _ in range(5):
        nodes, arrays = [w], [value]
        for _ in range(150):
            i, j = (int(k) for k in rng.integers(max(0, len(nodes) - 8), len(nodes), 2))
            kind = int(rng.integers(5))
            if kind == 0:
                nodes.append(sg.sin(nodes[i]))
                arrays.append(np.sin(arrays[i]))
            elif kind == 1:
                nodes.append(sg.tanh(nodes[i]) * nodes[j])
                arrays.append(np.tanh(arrays[i]) * arrays[j])
            elif kind == 2:
                nodes.append(0.5 * (nodes[i] - nodes[j]))
                arrays.append(0.5 * (arrays[i] - arrays[j]))
            elif kind == 3:
                nodes.append(sg.exp(-nodes[i] * nodes[i]) + nodes[j])
                arrays.append(np.exp(-arrays[i] * arrays[i]) + arrays[j])
            else:
                nodes.append(sg.maximum(nodes[i], nodes[j]) - nodes[i])
                arrays.append(np.maximum(arrays[i], arrays[j]) - arrays[i])
        picks = [nodes[k] for k in (40, 90, -1)]
        fn = sg.compile(sg.Graph(picks))
        for _ in range(2):                     # a second call sees the same fresh buffers
            got = fn(w=value)
            for g, k in zip(got, (40, 90, -1)):
                np.testing.assert_allclose(g, arrays[k], rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(value, original)     # the input is never written
