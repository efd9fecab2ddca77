"""The C backend: numpy's values on every op with a C form (bit for bit where numpy's loop is
libm's or the op is arithmetic, within a few ulps for the SIMD-looped transcendentals), batched
loops in C, the cache, and BackendError when it cannot run."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
from symgrad.backends import c as c_backend

from .cases import elementwise_graph, elementwise_ops, point_grid, tensor_graphs
from .helpers import assert_close_ulps, assert_same

# bit for bit: arithmetic, comparisons and numpy's own formulas in C, plus the libm functions
# that numpy's float64 loops call on this machine; every other function (exp, log, tanh, pow,
# arcsin, ...) runs in numpy's SIMD loops (AVX2/AVX-512), which differ from libm by up to
# 2 ulps (measured on 10^6 points: exp on 4.6 %, tanh on 13 % of values)
EXACT = {"add", "sub", "mul", "div", "neg", "greater", "less", "greater_equal", "less_equal",
         "equal", "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
         "maximum", "minimum", "relu", "abs", "sign", "heaviside", "sqrt", "sin", "cos",
         "floor", "ceil", "trunc", "mod", "softplus", "logaddexp"}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE", str(tmp_path / "cache"))


NO_C_FORM = {"erf", "erfc", "round"}     # scipy's erf; round takes decimals


@pytest.mark.parametrize("op", elementwise_ops(), ids=lambda op: op.name)
def test_every_elementwise_op_matches_the_interpreter(op):
    G, names = elementwise_graph(op)
    if op.name in NO_C_FORM:
        with pytest.raises(sg.BackendError, match=f"no form for op '{op.name}'"):
            sg.compile(G, backend="c", optimize=False)
        return
    fn = sg.compile(G, backend="c", optimize=False)
    for point in point_grid(len(names), np.random.default_rng(0)):
        values = dict(zip(names, point))
        got, expected = fn(values)[0], sg.evaluate(G, values)[0]
        if op.name in EXACT:
            assert_same(got, expected, (op.name, point))
        else:
            assert_close_ulps(got, expected, 2, (op.name, point))


def test_the_elementwise_ops_without_a_c_form_are_the_documented_ones():
    from symgrad.backends.c import _C_FUNCTIONS
    from symgrad.backends.scalar import prepare, scalar_form
    from symgrad.ir import REGISTRY
    missing = {op.name for op in REGISTRY.ops.values() if op.elementwise
               and (scalar_form(op) is None or prepare(scalar_form(op), _C_FUNCTIONS,
                                                       {"at0": 0.5}, repr) is None)}
    # cast changes the type; erf/erfc are scipy's, round takes decimals: none has one C form
    assert missing == {"cast"} | NO_C_FORM, (
        f"{missing}: add emit={{'scalar': ...}} to a new op's record or document it here")


@pytest.mark.parametrize("seed", range(4))
def test_random_scalar_graphs_and_gradients_match_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    x = [sg.var(f"x{i}") for i in range(3)]
    nodes = list(x)
    unary = [sg.sin, sg.cos, sg.sqrt, sg.abs, sg.relu, sg.neg, sg.sign, sg.square]
    binary = [sg.add, sg.sub, sg.mul, sg.div, sg.maximum, sg.minimum]
    for _ in range(150):
        a, b = (nodes[int(i)] for i in rng.integers(0, len(nodes), 2))
        kind = rng.integers(3)
        nodes.append(unary[int(rng.integers(len(unary)))](a) if kind == 0 else
                     binary[int(rng.integers(len(binary)))](a, b) if kind == 1 else
                     sg.where(sg.greater(a, b), a * 0.5, b - 1.0))
    G = sg.Graph([nodes[-1], nodes[-2], nodes[len(nodes) // 2]], inputs=x)
    B = sg.gradients(sg.Graph(sg.sum(sg.stack(list(G.outputs))), inputs=x), ["x0", "x1", "x2"])
    for graph in (G, B):
        fn = sg.compile(graph, backend="c", optimize=False)
        for _ in range(6):
            values = {v.name: float(rng.choice([0.0, -0.0, *rng.uniform(-3, 3, 4)]))
                      for v in graph.inputs}
            for g, e in zip(fn(values), sg.evaluate(graph, values)):
                assert_same(g, e, values)


def test_batched_c_equals_unbatched_c_and_the_numpy_batch():
    x, y = sg.var("x"), sg.var("y")
    f = sg.exp(sg.sin(x * y)) * x ** 3 * y / (1 + x * x + y * y)
    B = sg.gradients(sg.gradients(f, ["x"]).outputs[0], ["x", "y"])
    rng = np.random.default_rng(2)
    xs, ys = rng.uniform(-1, 1, (4, 5)), rng.uniform(-1, 1, (4, 5))
    batched = sg.compile(B, backend="c", batched=True)({"x": xs, "y": ys})
    single = sg.compile(B, backend="c")
    numpy_batch = sg.evaluate(B, {"x": xs, "y": ys}, batched=True)
    for j, out in enumerate(batched):
        assert out.shape == (4, 5) and out.dtype == np.float64 and out.flags.owndata
        for index in np.ndindex(4, 5):
            assert_same(out[index], single(x=xs[index], y=ys[index])[j])
        np.testing.assert_allclose(out, numpy_batch[j], rtol=1e-13)


def test_comparisons_give_bool_outputs():
    x, y = sg.var("x"), sg.var("y")
    out = sg.compile(sg.Graph([sg.greater(x, y), sg.less(x, y)]), backend="c")(x=2.0, y=1.0)
    assert [o.dtype for o in out] == [np.bool_, np.bool_] and [bool(o) for o in out] == [1, 0]


def test_the_library_is_cached_on_disk_by_source(monkeypatch, tmp_path):
    x = sg.var("x")
    G = sg.Graph(sg.sin(x) * x)
    first = sg.compile(G, backend="c")
    assert first.library.parent == tmp_path / "cache"

    def no_compiler(*args, **kwargs):
        raise AssertionError("the compiler ran again")
    monkeypatch.setattr(c_backend.subprocess, "run", no_compiler)
    second = sg.compile(G, backend="c")
    assert second.library == first.library and float(second(x=2.0)[0]) == np.sin(2.0) * 2.0


def test_no_compiler_is_a_backend_error_with_the_fix(monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("CC", raising=False)
    x = sg.var("x")
    with pytest.raises(sg.BackendError, match="needs a C compiler.*backend='python'"):
        sg.compile(sg.Graph(x * 2.0), backend="c")
    assert isinstance(sg.BackendError("x"), RuntimeError)


def test_small_tensor_graphs_are_scalarized_or_refused_naming_the_op():
    compiled, refused = 0, set()
    for G, values in tensor_graphs():
        try:
            fn = sg.compile(G, backend="c", optimize=False)
        except sg.BackendError as error:
            refused.add(str(error).split("op ")[1].split()[0] if "op " in str(error) else
                        str(error).split("dtype ")[1].split(".")[0])
            continue
        compiled += 1
        for got, expected in zip(fn(values), sg.evaluate(G, values)):
            assert got.dtype == expected.dtype and got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)  # sum order
    assert compiled >= 14
    scalarizable = {"'sum'", "'matmul'", "'reshape'", "'transpose'", "'getitem'",
                    "'broadcast_to'", "'sum_to'", "'concatenate'", "'slice_axis'",
                    "'pad_axis'", "'scatter'", "'where'", "'add'", "'mul'", "'sigmoid'"}
    assert refused and not refused & scalarizable, refused


def test_batched_tensor_graph_in_c():
    X, v = sg.var("X", shape=(3, 4)), sg.var("v", shape=(4,))
    G = sg.Graph([sg.sum(sg.tanh(X @ v) * 2.0), sg.reshape(X, (4, 3)).T + 1.0])
    rng = np.random.default_rng(4)
    values = {"X": rng.normal(size=(5, 3, 4)), "v": rng.normal(size=(5, 4))}
    got = sg.compile(G, backend="c", batched=True)(values)
    expected = sg.evaluate(G, values, batched=True)
    assert [g.shape for g in got] == [(5,), (5, 3, 4)]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-13)


def test_what_c_cannot_express_is_a_backend_error_naming_it():
    v = sg.var("v", shape=(3,))
    with pytest.raises(sg.BackendError, match=r"no form for op 'softmax'.*backend='python'"):
        sg.compile(sg.Graph(sg.softmax(v * 2.0)), backend="c")
    k = sg.var("k", dtype="int64")
    with pytest.raises(sg.BackendError, match="int64"):
        sg.compile(sg.Graph(sg.var("x") * k), backend="c")
    with pytest.raises(sg.BackendError, match="unknown backend 'fortran'"):
        sg.compile(sg.Graph(sg.var("x") * 2.0), backend="fortran")


def test_to_c_is_self_contained():
    x = sg.var("x")
    source = sg.to_c(sg.gradients(sg.sigmoid(x) * sg.maximum(x, 0.5), ["x"]))
    includes = [line for line in source.splitlines() if line.startswith("#include")]
    assert includes == ["#include <math.h>"]
    assert "void sg_eval(const double *in, double *out, double *w)" in source


def test_a_20000_node_chain_is_split_into_bounded_functions():
    x = sg.var("x")
    node = x
    for i in range(10_000):
        node = sg.sin(node) * 0.999 if i % 2 else node + 0.25
    G = sg.Graph(node)
    fn = sg.compile(G, backend="c", optimize=False)
    assert fn.source.count("SG_PART void sg_part") >= len(G) // c_backend.PART - 1
    assert_same(fn(x=0.5)[0], sg.evaluate(G, {"x": 0.5})[0])   # sin: libm in both


@pytest.mark.slow
def test_a_100000_node_chain_compiles_and_runs():
    x = sg.var("x")
    node = x
    for i in range(50_000):
        node = sg.sin(node) * 0.999 if i % 2 else node + 0.25
    G = sg.Graph(node)
    assert_same(sg.compile(G, backend="c", optimize=False)(x=0.5)[0],
                sg.evaluate(G, {"x": 0.5})[0])
