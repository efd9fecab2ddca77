"""Nodes: interning, operator sugar (plain and reflected, with Python and numpy numbers), dtypes of
lifted numbers, and the errors of using a symbolic node as a value."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import symgrad as sg

x, y = sg.var("x"), sg.var("y")
x32 = sg.var("x32", dtype="float32")
n = sg.var("n", dtype="int64")


# -- interning -------------------------------------------------------------------------------------
def test_same_expression_built_twice_is_one_node():
    first = sg.sin(x * y) + sg.exp(x)
    second = sg.sin(x * y) + sg.exp(x)
    assert first is second
    assert sg.const(2.0) is sg.const(2.0)
    assert sg.const(2.0) is not sg.const(2.0, dtype="float32")
    assert sg.const(0.0) is not sg.const(-0.0)


def test_interned_finds_without_building_and_like_gives_the_type():
    from symgrad.ir import intern, interned
    from symgrad.ops.arith import mul
    z = sg.var("z_only_here")
    assert interned(mul, (z, x)) is None                  # looking builds nothing
    product = z * x
    assert interned(mul, (z, x)) is product and interned(mul, (x, z)) is None
    w = sg.var("w_only_here")
    typed = intern(mul, (w, x), (), product)      # shape and dtype taken from ``like``
    assert (typed.shape, typed.dtype) == (product.shape, product.dtype) and typed is w * x


def test_var_by_name_is_one_node_and_other_types_are_other_nodes():
    assert sg.var("x") is x
    assert sg.var("x", shape=(2,)) is not x
    assert sg.var("x", dtype="float32") is not x


def test_same_name_with_another_shape_or_dtype_in_one_graph_is_a_shape_error():
    with pytest.raises(sg.ShapeError, match="'x'"):
        sg.Graph(x + sg.var("x", shape=(2,)))
    with pytest.raises(sg.ShapeError, match="'x'"):
        sg.Graph([x, sg.var("x", dtype="float32")])


def test_nodes_are_immutable_and_compared_by_identity():
    node = x * y
    with pytest.raises(AttributeError):
        node.shape = (3,)
    with pytest.raises(AttributeError):
        node.extra = 1
    assert (node == node) is True and (node == y * x) is False   # no commutative merging here
    assert hash(node) == hash(x * y)


def test_interned_nodes_are_released_when_unused():
    import symgrad.ir.node as node_module
    chain = x
    for _ in range(20_000):
        chain = sg.tanh(chain)
    kept = sg.exp(x) * 3.0
    before = len(node_module._TABLE)
    del chain
    gc.collect()
    threshold = node_module._COLLECT_AT[0]
    node_module._COLLECT_AT[0] = len(node_module._TABLE) + 5
    try:
        for i in range(10):                  # pass the threshold: the table is swept
            sg.const(float(i) + 0.25)
    finally:
        node_module._COLLECT_AT[0] = max(threshold, node_module._COLLECT_AT[0])
    assert len(node_module._TABLE) < before - 19_000
    assert sg.exp(x) * 3.0 is kept           # live nodes stay interned


# -- operator sugar --------------------------------------------------------------------------------
@pytest.mark.parametrize("build, op, inputs", [
    (lambda: x + y, "add", (x, y)),
    (lambda: x - y, "sub", (x, y)),
    (lambda: x * y, "mul", (x, y)),
    (lambda: x / y, "div", (x, y)),
    (lambda: x ** y, "pow", (x, y)),
    (lambda: -x, "neg", (x,)),
    (lambda: x > y, "greater", (x, y)),
    (lambda: x < y, "less", (x, y)),
    (lambda: 0.0 < x, "greater", (x, sg.const(0.0))),
])
def test_operators_build_the_registered_ops(build, op, inputs):
    node = build()
    assert node.op.name == op and node.inputs == inputs


def test_unary_plus_and_properties():
    v = sg.var("v", shape=(2, 3), dtype="float32")
    assert +x is x
    assert (v.shape, v.dtype, v.name, v.ndim, v.size) == ((2, 3), "float32", "v", 2, 6)
    assert (x * y).name is None
    assert sg.sin(v).shape == (2, 3)


@pytest.mark.parametrize("build, value", [
    (lambda: 2 * x, 6.0), (lambda: 2 + x, 5.0), (lambda: 2 - x, -1.0), (lambda: 6 / x, 2.0),
    (lambda: 2 ** x, 8.0), (lambda: x ** 2, 9.0), (lambda: x - 1, 2.0), (lambda: x / 2, 1.5),
])
def test_reflected_operators_with_python_numbers(build, value):
    node = build()
    assert isinstance(node, sg.Node)
    assert float(sg.evaluate(sg.Graph(node), {"x": 3.0})[0]) == value


@pytest.mark.parametrize("number", [np.float64(2), np.float32(2), np.int64(2), np.array(2.0)])
def test_reflected_operators_with_numpy_scalars_give_nodes(number):
    for node in (number * x, number + x, number - x, number / x, x * number):
        assert isinstance(node, sg.Node)
        assert node.dtype == "float64"
    assert float(sg.evaluate(sg.Graph(number * x), {"x": 3.0})[0]) == 6.0


def test_numpy_arrays_on_the_left_give_nodes_of_the_broadcast_shape():
    node = np.array([1.0, 2.0, 3.0]) * x
    assert isinstance(node, sg.Node) and node.shape == (3,)
    np.testing.assert_allclose(sg.evaluate(sg.Graph(node), {"x": 2.0})[0], [2.0, 4.0, 6.0])


def test_python_numbers_take_the_dtype_of_the_other_operand():
    assert (x32 * 2.5).dtype == "float32"
    assert (1 + x32).dtype == "float32"
    assert (x32 ** 2).dtype == "float32"
    assert sg.maximum(x32, 0).dtype == "float32"
    assert sg.where(x32 > 0, x32, 1.0).dtype == "float32"
    assert (n + 1).dtype == "int64"
    assert (n * 1.5).dtype == "float64"
    assert (n / 2).dtype == "float64"
    assert sg.const(2.0).dtype == "float64" and sg.const(2).dtype == "float64"
    assert sg.const(2, dtype="float32").dtype == "float32"
    # numpy scalars keep their own dtype and promote as numpy does
    assert (np.float32(2) * x32).dtype == "float32"
    assert (np.float64(2) * x32).dtype == "float64"


def test_a_node_has_no_truth_value():
    with pytest.raises(sg.SymgradError, match="where"):
        bool(x > y)
    with pytest.raises(sg.SymgradError):
        if x:
            pass
    with pytest.raises(TypeError):
        iter(sg.var("v", shape=(3,)))


def test_bad_builder_arguments_are_symgrad_errors():
    with pytest.raises(sg.SymgradError):
        sg.var("not a name")
    with pytest.raises(sg.ShapeError):
        sg.var("x", dtype="complex128")
    with pytest.raises(sg.ShapeError):
        sg.var("x", shape=(-1,))
    with pytest.raises(sg.SymgradError):
        sg.const("text")
    with pytest.raises(sg.ShapeError, match=r"\(3,\).*\(2,\)"):
        sg.var("a", shape=(3,)) + sg.var("b", shape=(2,))
    with pytest.raises(sg.SymgradError, match="argument"):
        sg.sin(x, y)


def test_constants_fold_at_build_time():
    node = sg.const(2.0) * sg.const(3.0) + 1
    assert node.is_const and float(node.value) == 7.0
    assert x * 1 is x and x + -0.0 is x and x - 0 is x and x / 1 is x and -(-x) is x
    assert (x + 0).op.name == "add"          # never x + 0.0 -> x: -0.0 + 0.0 is +0.0
    assert (x * 0).op.name == "mul"          # never x * 0 -> 0: that is NaN for x = inf


def test_params_equal_in_python_but_not_in_value_make_different_nodes():
    x = sg.var("x")
    minus, plus = sg.heaviside(x, at0=-0.0), sg.heaviside(x, at0=0.0)
    assert minus is not plus and minus is sg.heaviside(x, at0=-0.0)
    G = sg.Graph([minus, plus])
    for backend in ("numpy", "python"):
        got = sg.compile(G, backend=backend, optimize=False)(x=0.0)
        assert [np.signbit(v) for v in got] == [True, False], backend
