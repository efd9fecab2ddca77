"""The C backend: numpy's values on every op with a C form (bit for bit where numpy's loop is
libm's or the op is arithmetic, within a few ulps for the SIMD-looped transcendentals), batched
loops in C, the cache, and BackendError when it cannot run."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
from symgrad.backends import c as c_backend

from .cases import elementwise_ops, point_grid, tensor_graphs
from .helpers import assert_close_ulps, assert_same

# bit for bit: arithmetic, comparisons and numpy's own formulas in C, plus the libm functions
# that numpy's float64 loops call on this machine; every other function (exp, log, tanh, pow,
# arcsin, ...) runs in numpy's SIMD loops (AVX2/AVX-512), which differ from libm by up to
# 2 ulps (measured on 10^6 points: exp on 4.6 %, tanh on 13 % of values)
EXACT = {"add", "sub", "mul", "div", "neg", "greater", "less", "greater_equal", "less_equal",
         "equal", "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
         "maximum", "minimum", "relu", "abs", "sign", "heaviside", "sqrt", "sin", "cos",
         "floor", "ceil", "trunc", "mod", "softplus", "logaddexp", "round", "cast", "where"}


TWICE_EXP = sg.define_op("c_test_twice_exp", infer=lambda x: (x.shape, x.dtype),
                         forward=lambda x: np.exp(x) * 2, bprop=(lambda g, out, x: g * out,),
                         sympy=None)         # a user op: its forward cannot run on nodes


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE", str(tmp_path / "cache"))


# numpy's SIMD loops (float64 and float32) differ from libm by up to 3 ulps (cbrt, and float32
# log, tan, arctan2; most functions 1-2), measured on 4 * 10^4 points per dtype
ULPS = 3
INT64_POINTS = [0, 1, -1, 2, -2, 7, -7, 15, 25, -15, 2 ** 62, -2 ** 63, 2 ** 63 - 1, 10 ** 17 + 5]


def _every_elementwise_op(dtype: str) -> tuple:
    """One graph of every elementwise op (also round at several decimals, every cast and
    where) on inputs a, b of ``dtype``, and the names of its outputs."""
    a, b = sg.var("a", dtype=dtype), sg.var("b", dtype=dtype)
    outputs, names = [], []
    for op in elementwise_ops():
        outputs.append(op(*[a, b][:len(op.bprop)], **({"at0": 0.5} if op.name == "heaviside"
                                                       else {})))
        names.append(op.name)
    for decimals in (1, 2, -1, 12, 25):
        outputs.append(sg.round(a, decimals))
        names.append("round")
    for target in ("float64", "float32", "int64", "bool"):
        outputs.append(sg.cast(a, dtype=target))
        names.append("cast")
    outputs.append(sg.where(sg.greater(a, b), a, b))
    names.append("where")
    return sg.Graph(outputs, inputs=[a, b]), names


def _points(dtype: str) -> dict:
    rng = np.random.default_rng(0)
    if dtype == "int64":
        pairs = [(x, y) for x in INT64_POINTS for y in INT64_POINTS]
        pairs += [tuple(rng.integers(-50, 50, 2)) for _ in range(40)]
    else:
        halves = [(x + 0.5, -x - 0.5) for x in range(-4, 4)] + [(1.15, 2.675), (0.125, 1.005)]
        pairs = point_grid(2, rng) + halves + [tuple(rng.uniform(-30, 30, 2)) for _ in range(300)]
    with np.errstate(over="ignore"):                  # 1e308 as float32 is inf
        return {"a": np.array([p[0] for p in pairs], dtype=dtype),
                "b": np.array([p[1] for p in pairs], dtype=dtype)}


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_every_elementwise_op_in_every_dtype_matches_the_interpreter(dtype):
    G, names = _every_elementwise_op(dtype)
    values = _points(dtype)
    got = sg.compile(G, backend="c", optimize=False, batched=True)(values)
    expected = sg.evaluate(G, values, batched=True)
    for name, g, e in zip(names, got, expected):
        exact = EXACT - {"sin", "cos"} if e.dtype == np.float32 else EXACT  # SIMD sinf, cosf
        if name in exact or e.dtype.kind != "f" or g.dtype != e.dtype:
            assert_same(g, e, (name, dtype))
        elif name == "erfc" and e.dtype == np.float64:   # scipy's erfc is off by up to 500
            assert np.array_equal(np.isnan(g), np.isnan(e))  # ulps where libm's is within 2,
            np.testing.assert_allclose(g, e, rtol=2e-13, atol=1e-300)   # 0 for subnormals
        else:
            assert_close_ulps(g, e, ULPS, (name, dtype))
    single = sg.compile(G, backend="c", optimize=False)                # the same library
    for i in (0, 7, len(values["a"]) - 1):
        point = {k: v[i] for k, v in values.items()}
        for g, e in zip(single(point), got):
            assert_same(g, e[i], (dtype, point))


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


def test_every_small_tensor_graph_is_scalarized():
    for G, values in tensor_graphs():
        fn = sg.compile(G, backend="c", optimize=False)
        for got, expected in zip(fn(values), sg.evaluate(G, values)):
            assert got.dtype == expected.dtype and got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)  # sum order


def _reductions(X, K, F) -> list:
    return [sg.max(X, axis=0), sg.max(X, axis=1), sg.max(X), sg.min(X, axis=(0, 1),
                                                                   keepdims=True),
            sg.min(X, axis=1), sg.argmax(X, axis=1), sg.argmin(X, axis=0), sg.argmax(X),
            sg.argmin(X, axis=1, keepdims=True), sg.max(K, axis=1), sg.argmax(K, axis=0),
            sg.min(F, axis=0), sg.argmin(F, axis=1),
            sg.softmax(X, axis=1), sg.softmax(X, axis=0), sg.log_softmax(X, axis=1),
            sg.logsumexp(X, axis=1), sg.logsumexp(X, keepdims=True), sg.softmax(F, axis=1),
            sg.log_softmax(F, axis=0), sg.logsumexp(F, axis=1)]


def test_reductions_and_the_softmax_family_batched_and_unbatched():
    X, K = sg.var("X", shape=(4, 3)), sg.var("K", shape=(2, 3), dtype="int64")
    F = sg.var("F", shape=(2, 3), dtype="float32")
    G = sg.Graph(_reductions(X, K, F))
    rng = np.random.default_rng(5)
    rows = [[np.nan, 1.0, 2.0], [-np.inf, -np.inf, -np.inf], [1000.0, 1000.0, -1000.0],
            [np.inf, 3.0, np.nan], [2.0, 2.0, 1.0], [-3.0, np.nan, np.nan], [np.inf, 1.0, 2.0]]
    batch = 6
    values = {"X": np.array([[rows[int(i)] for i in rng.integers(0, len(rows), 4)]
                             for _ in range(batch)]),
              "K": rng.integers(-2 ** 62, 2 ** 62, (batch, 2, 3)),
              "F": rng.normal(0, 3, (batch, 2, 3)).astype(np.float32)}
    values["X"][0] += rng.normal(size=(4, 3))      # also a point of ordinary numbers
    got = sg.compile(G, backend="c", optimize=False, batched=True)(values)
    expected = sg.evaluate(G, values, batched=True)
    single = sg.compile(G, backend="c", optimize=False)
    for b in range(batch):
        point = {k: v[b] for k, v in values.items()}
        for g, e in zip(single(point), got):
            assert_same(g, e[b], b)
    for k, (g, e) in enumerate(zip(got, expected)):
        if k < 13:                                   # max, min, argmax, argmin: exact
            assert_same(g, e, G.outputs[k].op.name)
        else:                                        # sums in order, libm's exp and log
            assert g.dtype == e.dtype and np.array_equal(np.isnan(g), np.isnan(e))
            np.testing.assert_allclose(g, e, rtol=1e-13 if g.dtype == np.float64 else 2e-6)


def test_cross_entropy_and_its_gradient_at_input_labels():
    X, labels = sg.var("X", shape=(4, 3)), sg.var("labels", shape=(4,), dtype="int64")
    loss = sg.cross_entropy(X * 2.0, labels)
    G = sg.gradients(loss, ["X"])
    G = sg.Graph([loss, *G.outputs], inputs=[X, labels])
    rng = np.random.default_rng(7)
    values = {"X": rng.normal(0, 3, (5, 4, 3)), "labels": rng.integers(0, 3, (5, 4))}
    got = sg.compile(G, backend="c", batched=True)(values)
    for g, e in zip(got, sg.evaluate(G, values, batched=True)):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-16)
    fn = sg.compile(G, backend="c")
    for g, e in zip(fn(X=values["X"][1], labels=values["labels"][1]), got):
        assert_same(g, e[1])
    with pytest.raises(sg.InputError, match="out of range"):    # as the interpreter
        fn(X=values["X"][0], labels=np.array([0, 3, 1, -1]))


def test_embedding_lookup_and_its_gradient_at_input_indices():
    E, ids = sg.var("E", shape=(5, 3)), sg.var("ids", shape=(2, 4), dtype="int64")
    h = sg.take(E, ids, axis=0)
    loss = sg.sum(sg.tanh(h) * 1.5)
    G = sg.Graph([h, sg.take(E, sg.mod(ids[1, :2], 3), axis=1), loss,
                  *sg.gradients(loss, ["E"]).outputs], inputs=[E, ids])
    rng = np.random.default_rng(9)       # negative indices wrap; repeated ones add gradients
    values = {"E": rng.normal(size=(3, 5, 3)), "ids": rng.integers(-5, 5, (3, 2, 4))}
    got = sg.compile(G, backend="c", batched=True)(values)
    for g, e in zip(got, sg.evaluate(G, values, batched=True)):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-14, atol=1e-15)        # tanh: libm
    fn = sg.compile(G, backend="c")
    for g, e in zip(fn(E=values["E"][1], ids=values["ids"][1]), got):
        assert_same(g, e[1])
    with pytest.raises(sg.InputError, match="out of range"):    # as the interpreter
        fn(E=values["E"][0], ids=np.array([[0, 5, 1, 1], [0, 0, 0, 0]]))


def test_linear_algebra_is_scalarized_as_lapack_batched_and_unbatched():
    M, B = sg.var("M", shape=(2, 3, 3)), sg.var("B", shape=(3, 2))
    F = sg.var("F", shape=(2, 2), dtype="float32")
    sign, logdet = sg.linalg.slogdet(M)
    outputs = [sg.linalg.det(M), sign, logdet, sg.linalg.inv(M), sg.linalg.solve(M, B),
               sg.linalg.solve(M[0], B[:, 0]), sg.linalg.cholesky(M @ sg.transpose(M, (0, 2, 1))),
               sg.linalg.inv(F), sg.linalg.det(F)]
    G = sg.Graph(outputs + list(sg.gradients(sg.sum(sg.linalg.inv(M)) + sg.sum(logdet),
                                             ["M"]).outputs), inputs=[M, B, F])
    rng = np.random.default_rng(8)
    values = {"M": rng.normal(size=(4, 2, 3, 3)), "B": rng.normal(size=(4, 3, 2)),
              "F": rng.normal(size=(4, 2, 2)).astype(np.float32)}
    values["M"][:, 1] += 3 * np.eye(3)                  # the pivots differ from row order
    got = sg.compile(G, backend="c", batched=True)(values)
    for g, e in zip(got, sg.evaluate(G, values, batched=True)):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-11 if g.dtype == np.float64 else 1e-4)
    fn = sg.compile(G, backend="c")
    for g, e in zip(fn({k: v[2] for k, v in values.items()}), got):
        assert_same(g, e[2])
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])
    with pytest.raises(sg.InputError, match="singular"):          # as the interpreter
        fn(M=np.stack([singular, -singular]), B=values["B"][0], F=np.eye(2, dtype=np.float32))
    det_only = sg.compile(sg.Graph(outputs[:3], inputs=[M]), backend="c")
    out = det_only(M=np.stack([singular, -singular]))              # det 0: no error, no NaN
    assert (out[0] == 0).all() and (out[1] == 0).all() and (out[2] == -np.inf).all()


def test_int64_and_float32_graphs_wrap_and_round_as_numpy():
    rng = np.random.default_rng(6)
    for dtype in ("int64", "float32"):
        x = [sg.var(f"x{i}", dtype=dtype) for i in range(3)]
        nodes = list(x)
        ops = [sg.add, sg.sub, sg.mul, sg.maximum, sg.minimum, sg.mod,
               lambda a, b: sg.where(sg.less(a, b), sg.neg(a), sg.abs(b)),
               lambda a, b: sg.sign(a) * b + 3]
        if dtype == "float32":
            ops += [sg.div, lambda a, b: sg.sqrt(sg.abs(a)) - sg.floor(b * 0.5)]
        for _ in range(120):
            a, b = (nodes[int(i)] for i in rng.integers(0, len(nodes), 2))
            nodes.append(ops[int(rng.integers(len(ops)))](a, b))
        G = sg.Graph(nodes[-6:], inputs=x)
        if dtype == "int64":
            points = rng.integers(-2 ** 62, 2 ** 62, (200, 3))     # products wrap around
            points[:20] = rng.integers(-5, 5, (20, 3))
        else:
            points = rng.uniform(-10, 10, (200, 3)).astype(np.float32)
        values = {f"x{i}": points[:, i] for i in range(3)}
        got = sg.compile(G, backend="c", optimize=False, batched=True)(values)
        with np.errstate(all="ignore"):
            expected = sg.evaluate(G, values, batched=True)
        for g, e in zip(got, expected):
            assert_same(g, e, dtype)
        assert got[0].dtype == np.dtype(dtype)
        single = sg.compile(G, backend="c", optimize=False)
        for g, e in zip(single({k: v[3] for k, v in values.items()}), got):
            assert_same(g, e[3], dtype)


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
    x, X = sg.var("x"), sg.var("X", shape=(2,))
    for G in (sg.Graph(TWICE_EXP(x)), sg.Graph(TWICE_EXP(X) + 1.0)):  # scalar, tensor
        with pytest.raises(sg.BackendError, match=r"no form for op 'c_test_twice_exp'.*python"):
            sg.compile(G, backend="c")
    K, index = sg.var("K", shape=(3, 3), dtype="int64"), sg.var("index", (2,), dtype="int64")
    with pytest.raises(sg.BackendError, match=r"no form for op 'take' on tensors.*'python'"):
        sg.compile(sg.Graph(sg.take(K, index, axis=1)), backend="c")   # int64 at input indices
    with pytest.raises(sg.BackendError, match="unknown backend 'fortran'"):
        sg.compile(sg.Graph(sg.var("x") * 2.0), backend="fortran")


def test_to_c_is_self_contained():
    x = sg.var("x")
    source = sg.to_c(sg.gradients(sg.sigmoid(x) * sg.maximum(x, 0.5), ["x"]))
    includes = [line for line in source.splitlines() if line.startswith("#include")]
    assert includes == ["#include <math.h>"]
    assert "void sg_eval(const sg_slot *in, sg_slot *out, sg_slot *w)" in source


@pytest.mark.parametrize("steps", [10_000, pytest.param(50_000, marks=pytest.mark.slow)])
def test_a_long_chain_is_split_into_bounded_functions(steps):
    """20,000 nodes by default, 100,000 under the slow marker."""
    x = sg.var("x")
    node = x
    for i in range(steps):
        node = sg.sin(node) * 0.999 if i % 2 else node + 0.25
    G = sg.Graph(node)
    fn = sg.compile(G, backend="c", optimize=False)
    assert fn.source.count("SG_PART void sg_part") >= len(G) // c_backend.PART - 1
    assert_same(fn(x=0.5)[0], sg.evaluate(G, {"x": 0.5})[0])   # sin: libm in both
