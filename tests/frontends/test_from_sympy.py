"""sg.from_sympy: values against sympy itself, sharing, input order, round trips, deep DAGs and
the errors for what symgrad cannot express."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from sympy.codegen import cfunctions

import symgrad as sg

x, y, z = sp.symbols("x y z")
POINT = {"x": 0.7, "y": -1.3, "z": 2.1}


def sympy_value(expr, point=POINT) -> float:
    return float(expr.subs({sp.Symbol(k): v for k, v in point.items()}))


def graph_value(graph: sg.Graph, point=POINT) -> list:
    return [float(v) for v in sg.evaluate(graph, {v.name: point[v.name] for v in graph.inputs})]


EXPRESSIONS = [
    x + y * z, x - 2 * y, -x, x / y, x * y / z ** 2, -3 * x / (2 * y), x / 3,
    sp.sqrt(z) + z ** -2 + 1 / sp.sqrt(z), x ** 3, z ** y, z ** sp.Rational(1, 3),
    sp.exp(x) * sp.log(z), sp.log(z, 3), sp.sin(x) + sp.cos(y) + sp.tan(x) + sp.tanh(y),
    sp.Abs(y) + sp.sign(y), sp.Max(0, y) + sp.Max(x, y, z) + sp.Min(x, y, 0),
    sp.Heaviside(x) + sp.Heaviside(y, 0) + sp.Heaviside(x, sp.Rational(1, 3)),
    sp.Piecewise((x, x > y), (y, True)), sp.Piecewise((x, x < y), (y ** 2, True)),
    sp.Piecewise((x, x >= 1), (y, x <= -1), (z, True)),
    sp.pi * x + sp.E ** y + sp.EulerGamma, 1 / (1 + sp.exp(-x)), sp.log(1 + sp.exp(x)),
    cfunctions.log1p(z) + cfunctions.expm1(x) + cfunctions.log2(z) + cfunctions.log10(z)
    + cfunctions.exp2(x),
    sp.Integer(7), sp.Float(2.5) * x,
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
def test_imported_graph_evaluates_like_sympy(expr):
    G = sg.from_sympy(expr)
    assert graph_value(G) == pytest.approx([sympy_value(expr)], rel=1e-12)


def test_inputs_are_sorted_by_name_and_scalar_float64():
    b, a, c2, c10 = sp.symbols("b a c2 c10")
    G = sg.from_sympy(b * sp.sin(a) + c10 - c2)
    assert [v.name for v in G.inputs] == ["a", "b", "c10", "c2"]
    assert all(v.shape == () and v.dtype == "float64" for v in G.inputs)


def test_several_outputs_share_inputs_and_nodes():
    shared = sp.sin(x * y)
    G = sg.from_sympy([shared + 1, shared * z, x])
    assert len(G.outputs) == 3 and [v.name for v in G.inputs] == ["x", "y", "z"]
    assert sum(1 for n in G.nodes if n.op.name == "sin") == 1
    expected = [sympy_value(e) for e in (shared + 1, shared * z, x)]
    assert graph_value(G) == pytest.approx(expected, rel=1e-12)


def test_shared_subexpressions_become_one_node():
    u = x
    for _ in range(60):                  # a tree of 2^60 leaves, a DAG of 120 nodes
        u = sp.Add(sp.sin(u, evaluate=False), sp.cos(u, evaluate=False), evaluate=False)
    G = sg.from_sympy(u)
    assert len(G) <= 3 * 60 + 1
    v = 0.2
    for _ in range(60):
        v = np.sin(v) + np.cos(v)
    assert graph_value(G, {"x": 0.2}) == pytest.approx([v], rel=1e-12)


def test_maps_to_the_expected_ops():
    ops = {n.op.name for n in sg.from_sympy(x - y / z).nodes}
    assert {"sub", "div"} <= ops and "pow" not in ops and "neg" not in ops
    assert "relu" in {n.op.name for n in sg.from_sympy(sp.Max(0, x)).nodes}
    assert "sqrt" in {n.op.name for n in sg.from_sympy(sp.sqrt(x)).nodes}
    assert "sqrt" in {n.op.name for n in sg.from_sympy(cfunctions.Sqrt(x)).nodes}
    (step,) = [n for n in sg.from_sympy(sp.Heaviside(x)).nodes if n.op.name == "heaviside"]
    assert step.kwargs["at0"] == 0.5


def test_gradient_of_imported_expression_matches_sympy_diff():
    expr = sp.exp(x * y) * sp.sin(z) / (1 + x ** 2) + sp.Max(x, z) * sp.tanh(y)
    G = sg.from_sympy(expr)
    grads = graph_value(sg.gradients(G, ["x", "y", "z"]))
    expected = [sympy_value(sp.diff(expr, s)) for s in (x, y, z)]
    assert grads == pytest.approx(expected, rel=1e-10)


def test_round_trip_from_to_sympy_evaluates_equal():
    a, b = sg.var("a"), sg.var("b")
    outputs = [sg.sigmoid(a * b) + sg.softplus(a) - sg.relu(b), sg.where(a > b, a ** 2, -b),
               sg.abs(a) * sg.sign(b) + sg.maximum(a, b) / sg.minimum(a, 3.0),
               sg.log1p(a * a) + sg.expm1(b) + sg.sqrt(a * a + 1) + sg.tan(b)]
    G = sg.Graph(outputs)
    G2 = sg.from_sympy(sg.to_sympy(G))
    rng = np.random.default_rng(3)
    for _ in range(5):
        values = {"a": rng.uniform(-2, 2), "b": rng.uniform(-2, 2)}
        np.testing.assert_allclose(sg.evaluate(G2, values), sg.evaluate(G, values), rtol=1e-12)
    B = sg.gradients(G[0], ["a", "b"])
    B2 = sg.from_sympy(sg.to_sympy(B))
    np.testing.assert_allclose(sg.evaluate(B2, {"a": 0.4, "b": -0.9}),
                               sg.evaluate(B, {"a": 0.4, "b": -0.9}), rtol=1e-12)


def test_deep_sympy_dag_imports_without_recursion():
    u = x
    for _ in range(33_334):              # 3 sympy nodes a step: a 10^5-node DAG
        u = sp.Add(sp.Mul(u, sp.Rational(1, 2), evaluate=False), sp.sin(u, evaluate=False),
                   evaluate=False)
    G = sg.from_sympy(u)
    assert len(G) >= 100_000
    v = 0.3
    for _ in range(33_334):
        v = v / 2 + np.sin(v)
    assert graph_value(G, {"x": 0.3}) == pytest.approx([v], rel=1e-9)


@pytest.mark.parametrize("expr, named", [
    (sp.besselj(0, x), "besselj"),
    (sp.Integral(x, x), "Integral"),
    (sp.Derivative(sp.Function("f")(x), x), "Derivative"),
    (sp.Function("f")(x) + 1, "undefined function 'f'"),
    (x + sp.I, "imaginary unit"),
    (sp.zoo * x, "ComplexInfinity"),
    (sp.nan + x, "NaN"),
    (sp.gamma(x), "gamma"),
    (sp.zeta(x), "zeta"),
])
def test_unsupported_sympy_is_named_with_the_supported_list(expr, named):
    with pytest.raises(sg.SymgradError, match="supported:") as info:
        sg.from_sympy(expr)
    assert named in str(info.value)


def test_other_bad_inputs_raise_symgrad_errors():
    with pytest.raises(sg.SymgradError, match="Matrix"):
        sg.from_sympy(sp.Matrix([x, y]))
    with pytest.raises(sg.SymgradError, match="expects sympy expressions"):
        sg.from_sympy("sin(x)")
    with pytest.raises(sg.SymgradError, match="expects sympy expressions"):
        sg.from_sympy(2.0)
    with pytest.raises(sg.SymgradError, match="empty"):
        sg.from_sympy([])
    with pytest.raises(sg.SymgradError, match="end with a"):
        sg.from_sympy(sp.Piecewise((x, x > 0), (y, y > 0)))
    with pytest.raises(sg.SymgradError, match="identifier"):
        sg.from_sympy(sp.Symbol("x'") + 1)


# -- conditions: relationals, And, Or, Not, ITE (issue 7, item 21) ------------------------------
def test_round_trip_of_nested_where_whose_sympy_form_has_ite_conditions():
    a, b = sg.var("x"), sg.var("y")
    w = sg.where(sg.less(a, b), a, b)
    G = sg.Graph(sg.square(sg.where(sg.less(b, w), b, w)))
    (expr,) = sg.to_sympy(G)
    G2 = sg.from_sympy(expr)
    for point in ({"x": 0.5, "y": -1.0}, {"x": -2.0, "y": 1.5}, {"x": 1.0, "y": 1.0}):
        assert graph_value(G2, point) == pytest.approx(graph_value(G, point), rel=1e-15)


CONDITIONS = [
    sp.And(x > 0, y < 1), sp.And(x > 0, y < 1, z > 2), sp.Or(x > 1, y > 0), sp.Not(x > 0),
    sp.ITE(x > 0, y > 0, z > 2), x >= y, x <= y, sp.Eq(x, y), sp.Ne(x, y),
    sp.And(sp.Or(x > 0, sp.Not(y > 0)), sp.ITE(z > 1, x < y, sp.Eq(y, z))),
]


@pytest.mark.parametrize("cond", CONDITIONS, ids=str)
def test_piecewise_conditions_import_and_evaluate_like_sympy(cond):
    expr = sp.Piecewise((x * y, cond), (z + 1, True))
    G = sg.from_sympy(expr)
    rng = np.random.default_rng(5)
    points = [{"x": 1.0, "y": 1.0, "z": 1.0}, {"x": -1.0, "y": -1.0, "z": 3.0}]
    points += [dict(zip("xyz", rng.choice([-1.0, 0.5, 1.0, 3.0], size=3))) for _ in range(12)]
    for point in points:
        point = {k: point[k] for k in "xyz"}
        assert graph_value(G, point) == pytest.approx([sympy_value(expr, point)], rel=1e-15)


def test_a_condition_can_be_an_output():
    G = sg.from_sympy(sp.And(x > 0, y > 0))
    assert G.outputs[0].dtype == "bool"
    assert [bool(v) for v in sg.evaluate(G, {"x": 1.0, "y": 2.0})] == [True]
    assert [bool(v) for v in sg.evaluate(G, {"x": 1.0, "y": -2.0})] == [False]


# -- the function map comes from the op records (item 5) -----------------------------------------
def test_every_registered_op_with_a_head_form_round_trips_to_itself():
    from symgrad.frontends.sympy_import import registry_function_map
    from symgrad.ir import REGISTRY
    table = registry_function_map()
    assert {"sin", "tanh", "abs", "sign", "maximum", "greater", "less"} <= {
        op.name for op, _ in table.values()}
    for head, (op, _) in table.items():
        if op.name in ("add", "mul", "pow", "maximum"):     # explicit forms (Add, Mul, Pow, Max)
            continue
        args = [sg.var(f"a{i}") for i in range(len(op.bprop))]
        G = sg.from_sympy(sg.to_sympy(sg.Graph(op(*args))))
        assert op in {n.op for n in G.nodes}, f"{head.__name__} did not import as {op.name}"
    assert all(op.name in REGISTRY.ops for op, _ in table.values())


def fake_op(name, forward, rule, arity):
    from symgrad.ir import OpDef
    from symgrad.ops._define import apply, elementwise
    op = OpDef(name, infer=elementwise(name, real=True), forward=forward,
               bprop=(None,) * arity, sympy=rule, elementwise=True)
    op.build = apply
    return op


def test_a_new_op_with_a_sympy_head_imports_without_editing_the_importer():
    from scipy import special
    from symgrad.frontends.sympy_import import function_map, import_expressions
    gamma = fake_op("fake_gamma", special.gamma, lambda sp, a: sp.gamma(a), 1)
    flipped = fake_op("fake_atan2_flipped", lambda a, b: np.arctan2(b, a),
                      lambda sp, a, b: sp.atan2(b, a), 2)
    table = function_map([gamma, flipped])
    assert table[sp.gamma] == (gamma, (0,)) and table[sp.atan2] == (flipped, (1, 0))
    expr = sp.gamma(x + 2) * sp.atan2(y, z)
    G = import_expressions(expr, function_map=table)
    assert {gamma, flipped} <= {n.op for n in G.nodes}
    assert graph_value(G) == pytest.approx([sympy_value(expr)], rel=1e-12)
    with pytest.raises(sg.SymgradError, match="'gamma' has no symgrad op"):
        sg.from_sympy(sp.gamma(x))                # the registry has no such op
