"""explain(): the Algorithm 6 narration, checked against finite differences and sympy.diff."""

import numpy as np
import pytest
import sympy

import symgrad as sg
from symgrad.autodiff.explain import formula
from tests.helpers.gradcheck import numeric_gradient

X, Y, Z = sg.var("x"), sg.var("y"), sg.var("z")


def lecture_example():
    return (X + Y) * sg.maximum(Y, Z)


def test_worked_example_values_match_finite_differences():
    at = {"x": 1.0, "y": 2.0, "z": 0.0}
    text = str(sg.explain(lecture_example(), ["x", "y", "z"], at=at))
    result = text.split("Result (grad_table restricted to the targets):")[1].splitlines()[1:]
    shown = [float(line.rsplit("=", 1)[1]) for line in result]
    graph = sg.Graph(lecture_example())
    expected = [float(numeric_gradient(graph, at, name)) for name in ("x", "y", "z")]
    assert shown == pytest.approx(expected, abs=1e-6)
    assert shown == [2.0, 5.0, 0.0]


def test_worked_example_narrates_each_step_in_reverse_order():
    text = str(sg.explain(lecture_example(), ["x", "y", "z"], at={"x": 1, "y": 2, "z": 0}))
    assert "G' = [x, y, u1, z, u2, u3]" in text
    visited = [line.split(":")[0].strip() for line in text.splitlines()
               if line.strip().startswith("V = ")]
    assert visited == ["V = u2", "V = z", "V = u1", "V = y", "V = x"]
    # y has two consumers (the sum a = x + y and the max b), so two contributions then a sum
    y_block = text.split("V = y:")[1].split("V = x:")[0]
    assert "consumers in G' = [u1 (add), u2 (maximum)]" in y_block
    assert y_block.count("bprop gives") == 2
    # maximum's bprop: u1 where y > z, 0 where y < z, u1/2 at a tie (compared, never subtracted)
    assert ("grad_table[y] = u1*Piecewise((1, y > z), (Piecewise((0, y < z), (1/2, True)), "
            "True)) + u2 = 5") in y_block
    assert "u1 = x + y = 3" in text and "u2 = Max(y, z) = 2" in text


def test_formulas_match_sympy_diff():
    f = sg.tanh(X * Y) + sg.exp(X) * sg.sin(Y) / (1 + X * X)
    trace = sg.explain(f, [X, Y])
    x, y = sympy.symbols("x y")
    reference = sympy.tanh(x * y) + sympy.exp(x) * sympy.sin(y) / (1 + x * x)
    for node, symbol in ((X, x), (Y, y)):
        assert sympy.simplify(trace.formulas[node] - sympy.diff(reference, symbol)) == 0


def test_values_match_finite_differences_on_a_shared_subexpression():
    a = X * Y
    f = a * sg.sin(a) + sg.log1p(a * a)
    at = {"x": 0.7, "y": -1.3}
    trace = sg.explain(f, ["x", "y"], at=at)
    graph = sg.Graph(f)
    for node in (X, Y):
        got = float(trace.values[trace.grad_table[node]])
        assert got == pytest.approx(float(numeric_gradient(graph, at, node.name)), rel=1e-6)


def test_disconnected_target_is_reported_as_zero():
    text = str(sg.explain(X * X + sg.sign(Y), ["x", "y"]))
    assert "df/dy = 0   (not connected)" in text
    assert "df/dx = 2*x" in text


def test_long_chain_does_not_recurse():
    node = X
    for _ in range(1500):
        node = sg.sin(node)
    trace = sg.explain(node, ["x"])
    assert len(trace.G_prime) == 1501
    assert str(trace).count("bprop gives") == 1500
    assert "df/dx = (large)" in str(trace)


def test_bad_values_raise_input_errors():
    with pytest.raises(sg.InputError, match="missing: z"):
        sg.explain(lecture_example(), ["x"], at={"x": 1, "y": 2})
    with pytest.raises(sg.InputError, match="not a number"):
        sg.explain(lecture_example(), ["x"], at={"x": "one", "y": 2, "z": 0})
    with pytest.raises(sg.GradientError, match="'w' is not an input"):
        sg.explain(lecture_example(), ["w"])


def test_formula_of_non_elementwise_ops_names_the_op():
    x = sg.var("v", shape=(3,))
    node = sg.reshape(x, (1, 3))
    shown = str(formula(node, {x: sympy.Symbol("v")}, sympy))
    assert shown.startswith("reshape(v") and "shape=(1,3)" in shown
    assert np.isclose(float(formula(sg.const(0.5) * X, {X: sympy.Symbol("x")}, sympy)
                            .subs("x", 4)), 2.0)
