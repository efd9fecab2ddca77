"""The symgrad command line: results checked against sympy.diff and finite differences."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
import sympy

import symgrad as sg
from symgrad.cli import main
from tests.helpers.gradcheck import numeric_gradient

x, y, z = sympy.symbols("x y z")


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_grad_of_the_worked_example_at_a_point(capsys):
    status, out, _ = run(capsys, "grad", "(x + y) * maximum(y, z)", "--wrt", "x", "y", "z",
                         "--at", "x=1", "y=2", "z=0")
    assert status == 0
    lines = out.strip().replace("\n  = ", " = ").splitlines()     # long formulas wrap
    assert [line.split(" = ")[0] for line in lines] == ["df/dx", "df/dy", "df/dz"]
    shown = [float(line.rsplit("= ", 1)[1]) for line in lines]
    graph = sg.parse("(x + y) * maximum(y, z)")
    at = {"x": 1.0, "y": 2.0, "z": 0.0}
    expected = [float(numeric_gradient(graph, at, n)) for n in "xyz"]
    np.testing.assert_allclose(shown, expected, atol=1e-6)


def test_third_derivative_matches_sympy(capsys):
    status, out, _ = run(capsys, "grad", "sin(x) * exp(x)", "--wrt", "x", "--order", "3",
                         "--format", "sympy")
    assert status == 0
    shown = sympy.sympify(out.strip())
    assert sympy.simplify(shown - sympy.diff(sympy.sin(x) * sympy.exp(x), x, 3)) == 0


def test_mixed_second_derivatives_are_named_and_match_sympy(capsys):
    status, out, _ = run(capsys, "grad", "x**3 * y + tanh(x * y)", "--wrt", "x", "y",
                         "--order", "2", "--format", "json")
    assert status == 0
    items = json.loads(out)
    assert [item["name"] for item in items] == ["d2f/dx2", "d2f/dxdy", "d2f/dy2"]
    reference = x**3 * y + sympy.tanh(x * y)
    for item in items:
        expected = sympy.diff(reference, *[sympy.Symbol(n) for n in item["wrt"]])
        assert sympy.simplify(sympy.sympify(item["expr"]) - expected) == 0


def test_json_values_match_finite_differences(capsys):
    status, out, _ = run(capsys, "grad", "a = x * y; a * sin(a) + log1p(a * a)",
                         "--at", "x=0.7", "y=-1.3", "--format", "json")
    assert status == 0
    items = json.loads(out)
    graph = sg.parse("a = x * y; a * sin(a) + log1p(a * a)")
    at = {"x": 0.7, "y": -1.3}
    for item in items:
        assert item["value"] == pytest.approx(float(numeric_gradient(graph, at, item["wrt"][0])),
                                              rel=1e-6)


def test_latex_format(capsys):
    status, out, _ = run(capsys, "grad", "x**2 * y", "--wrt", "x", "--format", "latex")
    assert status == 0
    left, right = out.strip().split(" = ")
    assert left == r"\frac{\partial f}{\partial x}"
    assert right == sympy.latex(2 * x * y)


def test_hessian_matches_closed_form(capsys):
    status, out, _ = run(capsys, "hessian", "x**2 * y + y**3", "--wrt", "x", "y",
                         "--at", "x=1", "y=2", "--format", "json")
    assert status == 0
    (item,) = json.loads(out)
    np.testing.assert_allclose(item["value"], [[4.0, 2.0], [2.0, 12.0]])
    expected = sympy.hessian(x**2 * y + y**3, (x, y))
    assert sympy.Matrix(item["expr"]).applyfunc(sympy.sympify) == expected


def test_jacobian_of_a_vector_expression(capsys):
    status, out, _ = run(capsys, "jacobian", "stack([x * y, x + y])", "--wrt", "x", "y",
                         "--at", "x=2", "y=3", "--format", "json")
    assert status == 0
    (item,) = json.loads(out)
    np.testing.assert_allclose(item["value"], [[3.0, 2.0], [1.0, 1.0]])


def test_tensor_input_with_shape_and_array_value(capsys):
    status, out, _ = run(capsys, "grad", "sum(W * W)", "--shape", "W=2,2", "--wrt", "W",
                         "--at", "W=[[1,2],[3,4]]", "--format", "json")
    assert status == 0
    (item,) = json.loads(out)
    assert item["value"] == [[2.0, 4.0], [6.0, 8.0]]


def test_explain_prints_the_algorithm_6_trace(capsys):
    status, out, _ = run(capsys, "grad", "(x + y) * maximum(y, z)", "--wrt", "x", "y", "z",
                         "--explain", "--at", "x=1", "y=2", "z=0")
    assert status == 0
    assert "Algorithm 5: G'" in out and "Algorithm 6 (build_grad)" in out
    result = out.split("Result")[1].splitlines()[1:]
    assert [float(line.rsplit("=", 1)[1]) for line in result] == [2.0, 5.0, 0.0]


def test_graph_listing_and_pictures(capsys, tmp_path):
    status, out, _ = run(capsys, "graph", "x * sin(x)", "--wrt", "x")
    assert status == 0
    G = sg.parse("x * sin(x)")
    B = sg.gradients(G, ["x"])
    assert str(G) in out and str(B) in out
    dot_path, png_path = tmp_path / "b.dot", tmp_path / "b.png"
    assert run(capsys, "graph", "x * sin(x)", "--wrt", "x", "--dot", str(dot_path))[0] == 0
    assert dot_path.read_text() == sg.to_dot(B, output_names=["df/dx"])
    assert run(capsys, "graph", "x * sin(x)", "--png", str(png_path))[0] == 0
    assert png_path.read_bytes()[:4] == b"\x89PNG"


def test_expression_from_file_and_stdin(capsys, tmp_path, monkeypatch):
    source = tmp_path / "f.sg"
    source.write_text("a = x * x  # a comment\n3 * a\n")
    status, out, _ = run(capsys, "grad", "-f", str(source), "--at", "x=2")
    assert status == 0 and out.strip().endswith("= 12")
    monkeypatch.setattr(sys, "stdin", io.StringIO("x ** 3"))
    status, out, _ = run(capsys, "grad", "-", "--at", "x=2")
    assert status == 0 and out.strip().endswith("= 12")


def test_eval_command(capsys):
    status, out, _ = run(capsys, "eval", "x**2 + 1", "--at", "x=3")
    assert (status, out.strip()) == (0, "10")


@pytest.mark.parametrize("argv, message", [
    (["grad", "x ^ 2"], "**"),
    (["grad", "x * y", "--wrt", "w"], "'w' is not an input"),
    (["grad", "-f", "/nonexistent/expr.txt"], "cannot access"),
    (["grad", "x * y", "--dtype", "y=int64", "--wrt", "y"], "int64"),
    (["grad", "x * y", "--at", "x=1"], "missing input 'y'"),
    (["grad", "x * y", "--at", "x=one", "y=2"], "--at 'x=one'"),
    (["grad", "W @ v", "--shape", "W=2,3", "--shape", "v=2"], "(2, 3)"),
    (["grad"], "no expression"),
])
def test_errors_exit_2_with_one_message_and_no_traceback(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert err.startswith("symgrad: error: ") and message in err
    assert "Traceback" not in err and out == ""


def test_python_dash_m_help():
    done = subprocess.run([sys.executable, "-m", "symgrad", "--help"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0
    assert "examples:" in done.stdout and "symgrad grad" in done.stdout
    done = subprocess.run([sys.executable, "-m", "symgrad", "grad", "x +"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert np.isfinite(len(done.stderr)) and "^" in done.stderr
