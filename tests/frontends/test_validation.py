"""Misuse gives a clear symgrad error at build time, never a bare Python exception, a silently
coerced value or a crash at evaluation (issue 7, items 6-8)."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg

x = sg.var("x")
v = sg.var("v", shape=(3,))


@pytest.mark.parametrize("dtype", ["bogus", "float16", "complex128", None, 1, np.complex64])
def test_cast_to_an_unsupported_dtype_is_a_shape_error(dtype):
    with pytest.raises(sg.ShapeError, match="is not supported; use one of"):
        sg.cast(x, dtype=dtype)


@pytest.mark.parametrize("text", ["1f8", "f8,i4", "(2)f8", "<2i4", "[('a', '1,f8')]"])
def test_structured_dtype_text_is_refused_before_numpy_parses_it(text, literal_eval_refused):
    """numpy reads such text with ast.literal_eval, i.e. compile(): text from an expression must
    not get there (found by the slow parse fuzz test)."""
    with pytest.raises(sg.ShapeError, match="is not supported; use one of"):
        sg.cast(x, dtype=text)
    with pytest.raises(sg.ShapeError, match="is not supported"):
        sg.parse(f"cast(x, dtype={text!r})")
    with pytest.raises(sg.ShapeError, match="is not supported"):
        sg.var("w", dtype=text)


def test_cast_accepts_numpy_dtypes_and_stores_the_name():
    for spec in (np.float32, np.dtype("float32"), "float32", "f4", "<f4"):
        node = sg.cast(x, dtype=spec)
        assert node.dtype == "float32" and node.kwargs["dtype"] == "float32"
    assert sg.cast(x, dtype=np.float32) is sg.cast(x, dtype="float32")
    with pytest.raises(sg.ShapeError, match="one keyword"):
        sg.cast(x)


def test_parse_reports_bad_cast_and_heaviside_arguments_with_a_position():
    with pytest.raises(sg.ShapeError, match=r"dtype 1 is not supported.*line 1, column 5"):
        sg.parse("1 + cast(x, dtype=1)")
    with pytest.raises(sg.ShapeError, match="give the value at 0 as at0="):
        sg.parse("heaviside(x)")
    with pytest.raises(sg.ShapeError, match="give the value at 0 as at0="):
        sg.heaviside(x)
    with pytest.raises(sg.ShapeError, match="at0 must be a number"):
        sg.heaviside(x, at0=True)
    # the builder and the parser agree: both take at0 as a keyword, ints included
    G = sg.parse("heaviside(x, at0=1)")
    assert G.output is sg.heaviside(x, at0=1.0)
    assert [float(sg.evaluate(G, {"x": t})[0]) for t in (-1.0, 0.0, 2.0)] == [0.0, 1.0, 1.0]


@pytest.mark.parametrize("build", [
    lambda: sg.var("a", shape=(2.5,)),
    lambda: sg.var("a", shape="12"),
    lambda: sg.var("a", shape=(True, 2)),
    lambda: sg.var("a", shape=(-1,)),
    lambda: sg.var("a", shape=None),
    lambda: sg.broadcast_to(v, (2.5, 3)),
    lambda: sg.broadcast_to(v, "23"),
    lambda: sg.reshape(v, None),
    lambda: sg.reshape(v, (3.0,)),
    lambda: sg.reshape(v, "3"),
])
def test_shapes_are_never_coerced(build):
    with pytest.raises(sg.ShapeError, match="shape"):
        build()


def test_integer_constants_do_not_wrap_and_big_python_ints_work():
    with pytest.raises(sg.ShapeError, match="does not fit int64"):
        sg.const(np.uint64(2 ** 64 - 1))
    assert sg.const(np.uint64(7)).dtype == "int64"
    assert float(sg.const(np.uint64(2 ** 64 - 1), "float64").value) == 2.0 ** 64
    f = x * 10 ** 20
    assert f.dtype == "float64"
    assert float(sg.evaluate(f, {"x": 2.0})[0]) == 2e20
    assert float(sg.evaluate(sg.parse("x * 10**20"), {"x": 2.0})[0]) == 2e20
    n = sg.var("n", dtype="int64")
    assert float(sg.evaluate(n * 10 ** 20, {"n": 3})[0]) == 3e20        # beyond int64: float
    assert (n * 2).dtype == "int64"
    with pytest.raises(sg.ShapeError, match="too large"):
        sg.const(10 ** 400)


@pytest.mark.parametrize("build,error,pattern", [
    (lambda: sg.Graph(1.0), sg.SymgradError, "Graph outputs must be a node"),
    (lambda: sg.Graph(x, inputs=5), sg.InputError, "Graph inputs must be a list"),
    (lambda: sg.Graph(x)["a"], sg.SymgradError, r"G\[i\] selects one"),
    (lambda: sg.Graph(x)[5], sg.SymgradError, r"int index in -1..0, got 5"),
    (lambda: sg.gradients(sg.Graph(x), None), sg.GradientError, "wrt must be"),
    (lambda: sg.parse("x + y", shapes=[(2,)]), sg.ShapeError, "shapes must be a mapping"),
    (lambda: sg.parse("x + y", dtypes="float32"), sg.ShapeError, "dtypes must be a mapping"),
    (lambda: sg.sum(v, keepdims=x), sg.ShapeError, "keepdims must be True or False"),
])
def test_misuse_raises_a_symgrad_error(build, error, pattern):
    with pytest.raises(error, match=pattern):
        build()


def test_graph_index_selects_an_output():
    G = sg.Graph([x, v])
    assert G[1].output is v and G[-2].output is x and G[np.int64(0)].output is x


@pytest.mark.parametrize("text,error", [
    ("sum(v, keepdims=x)", sg.ShapeError),
    ("minimum(v, (2, z))", sg.ShapeError),
    ("where((a, 0), a, a)", sg.ShapeError),
    ("where(x, x, x)", sg.ShapeError),
    ("where(x, v, 1)", sg.ShapeError),
])
def test_parse_raises_parse_or_shape_errors_with_a_position(text, error):
    with pytest.raises(error, match=r"line 1, column \d+"):
        sg.parse(text, shapes={"v": (3,)})


def test_where_needs_a_bool_condition_even_with_equal_branches():
    with pytest.raises(sg.ShapeError, match="condition must be a comparison"):
        sg.where(x, x, x)


@pytest.mark.parametrize("build", [
    lambda: sg.sum(sg.broadcast_to(x, (10 ** 12, 10 ** 12))),
    lambda: sg.exp(sg.broadcast_to(1, (10 ** 6, 10 ** 6))),
    lambda: sg.var("a", shape=(10 ** 6,)) * sg.var("b", shape=(10 ** 6, 1)),
    lambda: sg.var("big", shape=(2 ** 31 + 1,)),
    lambda: sg.matmul(sg.var("c", shape=(10 ** 5, 1)), sg.var("r", shape=(1, 10 ** 5))),
])
def test_huge_results_are_refused_when_built(build):
    with pytest.raises(sg.ShapeError, match="MAX_ELEMENTS"):
        build()
