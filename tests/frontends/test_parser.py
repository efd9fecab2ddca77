"""sg.parse: grammar, precedence, statements, inputs, every error path, depth and safety."""

from __future__ import annotations

import inspect
import math
import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.frontends.lexer import tokenize
from symgrad.ir import REGISTRY
from tests.helpers.gradcheck import check_gradients

VALUES = {"a": 1.7, "b": 0.6, "c": 2.3, "x": 1.3}


def value_of(text: str, **inputs) -> np.ndarray:
    G = sg.parse(text, shapes={k: np.shape(v) for k, v in inputs.items()})
    return sg.evaluate(G, {v.name: inputs[v.name] for v in G.inputs})[0]


def parse_error(text: str, line: int, column: int, fragment: str, **kwargs) -> sg.ParseError:
    """Assert ``text`` fails at (line, column) with ``fragment`` and a caret under the column."""
    with pytest.raises(sg.ParseError) as info:
        sg.parse(text, **kwargs)
    err = info.value
    assert (err.line, err.column) == (line, column), str(err)
    assert fragment in str(err)
    shown = str(err).splitlines()
    source = text.split("\n")[line - 1]
    if len(source) <= 100:
        assert shown[-2] == "    " + source
        assert shown[-1] == "    " + " " * (column - 1) + "^"
    else:  # a long line is shown as a window around the caret
        window = shown[-2][4:]
        start = len(window) - len(window.lstrip("…"))
        assert len(window) <= 82 and window.strip("…") in source
        caret = shown[-1].index("^") - 4
        offset = source.index(window.strip("…")) if start else 0
        assert offset + caret - start == column - 1
    return err


# -- precedence and associativity, against the same formula in Python floats ---------------------
PRECEDENCE = [
    ("-x**2", lambda a, b, c, x: -(x ** 2)),
    ("2**-1", lambda a, b, c, x: 0.5),
    ("2**3**2", lambda a, b, c, x: 2.0 ** 9),
    ("(2**3)**2", lambda a, b, c, x: 64.0),
    ("a - b - c", lambda a, b, c, x: (a - b) - c),
    ("a / b * c", lambda a, b, c, x: (a / b) * c),
    ("a / b / c", lambda a, b, c, x: (a / b) / c),
    ("a + b * c", lambda a, b, c, x: a + (b * c)),
    ("a * b ** c", lambda a, b, c, x: a * (b ** c)),
    ("-a * b", lambda a, b, c, x: (-a) * b),
    ("a * -b", lambda a, b, c, x: a * (-b)),
    ("a ** -b ** c", lambda a, b, c, x: a ** (-(b ** c))),
    ("a ** -b * c", lambda a, b, c, x: (a ** (-b)) * c),
    ("--a", lambda a, b, c, x: a),
    ("-+-a", lambda a, b, c, x: a),
    ("+a - -b", lambda a, b, c, x: a + b),
    ("a - (b - c)", lambda a, b, c, x: a - (b - c)),
    ("(a + b) * c", lambda a, b, c, x: (a + b) * c),
    ("1/2*a", lambda a, b, c, x: 0.5 * a),
    ("a**2**-1", lambda a, b, c, x: a ** 0.5),
    ("-2**2", lambda a, b, c, x: -4.0),
    ("(-2)**2", lambda a, b, c, x: 4.0),
    ("sin(a)**2 + cos(a)**2", lambda a, b, c, x: math.sin(a) ** 2 + math.cos(a) ** 2),
    ("exp(-x**2/2)", lambda a, b, c, x: math.exp(-(x ** 2) / 2)),
    ("x*pi + e", lambda a, b, c, x: x * math.pi + math.e),
    ("1.5e-3*x + .5 + 2E+1 + 3.", lambda a, b, c, x: 1.5e-3 * x + 0.5 + 20.0 + 3.0),
]


@pytest.mark.parametrize("text, formula", PRECEDENCE, ids=[t for t, _ in PRECEDENCE])
def test_precedence_and_associativity_match_python(text, formula):
    G = sg.parse(text)
    got = sg.evaluate(G, {v.name: VALUES[v.name] for v in G.inputs})[0]
    assert got.shape == ()
    assert got == pytest.approx(formula(**VALUES), rel=1e-12)


_BINARY = {"+": 10, "-": 10, "*": 20, "/": 20, "**": 40}


def _infix(program: list) -> tuple[str, float]:
    """Text with minimal parentheses (Python's rules) and its value, from an RPN program."""
    stack: list = []  # (text, precedence, value)
    for item in program:
        if item == "neg":
            if stack:
                text, prec, value = stack.pop()
                stack.append(("-" + (text if prec >= 30 else f"({text})"), 30, -value))
        elif item in _BINARY:
            if len(stack) >= 2:
                _combine(stack, item)
        else:
            stack.append((item, 50, np.float64(VALUES[item] if item in VALUES else item)))
    while len(stack) > 1:
        _combine(stack, "+")
    return stack[0][0], stack[0][2]


def _combine(stack: list, op: str) -> None:
    (rt, rp, rv), (lt, lp, lv) = stack.pop(), stack.pop()
    p = _BINARY[op]
    left_paren = lp < p or (lp == p and op == "**")       # ** is right-associative
    right_paren = rp < 30 if op == "**" else rp <= p      # 2**-x needs none
    text = (f"({lt})" if left_paren else lt) + f" {op} " + (f"({rt})" if right_paren else rt)
    with np.errstate(all="ignore"):
        value = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide,
                 "**": np.power}[op](lv, rv)
    stack.append((text, p, value))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "2", "0.5", "3", "+", "-", "*", "/", "**",
                                 "neg"]), min_size=1, max_size=25).filter(
    lambda p: p[0] in ("a", "b", "c", "2", "0.5", "3")))
def test_random_expressions_agree_with_numpy(program):
    text, expected = _infix(program)
    G = sg.parse(text)
    with np.errstate(all="ignore"):
        got = sg.evaluate(G, {v.name: VALUES[v.name] for v in G.inputs})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-9, equal_nan=True, err_msg=text)


# -- grammar features ---------------------------------------------------------------------------
def test_integer_literals_are_real_numbers():
    assert value_of("1/2") == 0.5
    assert value_of("2**-1") == 0.5
    assert sg.parse("3").output.dtype == "float64"


def test_constants_pi_and_e_are_reserved_not_inputs():
    G = sg.parse("pi * e + 1e1", shapes={"e": (3,)})
    assert G.inputs == ()
    assert sg.evaluate(G, {})[0] == pytest.approx(math.pi * math.e + 10)


def test_calls_with_positional_and_keyword_arguments():
    x = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]])
    np.testing.assert_allclose(value_of("maximum(X, 0) + minimum(X, 1)", X=x),
                               np.maximum(x, 0) + np.minimum(x, 1))
    np.testing.assert_allclose(value_of("sum(X, axis=-1, keepdims=True)", X=x),
                               x.sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(value_of("sum(X, 0, False)", X=x), x.sum(axis=0))
    np.testing.assert_allclose(value_of("sum(X, axis=0,)", X=x), x.sum(axis=0))


def test_where_with_comparisons_and_int_inputs():
    G = sg.parse("where(greater(k, 0), x, -x)", dtypes={"k": "int64"})
    assert [(v.name, v.dtype) for v in G.inputs] == [("k", "int64"), ("x", "float64")]
    assert sg.evaluate(G, {"k": 1, "x": 2.0})[0] == 2.0
    assert sg.evaluate(G, {"k": -1, "x": 2.0})[0] == -2.0


def test_indexing_and_slicing_with_constant_integers():
    X = np.arange(12.0).reshape(3, 4)
    v = np.arange(5.0)
    np.testing.assert_array_equal(value_of("X[:, 0]", X=X), X[:, 0])
    np.testing.assert_array_equal(value_of("X[1, -1]", X=X), X[1, -1])
    np.testing.assert_array_equal(value_of("X[::2, 1:]", X=X), X[::2, 1:])
    np.testing.assert_array_equal(value_of("X[-2:, :3:2]", X=X), X[-2:, :3:2])
    np.testing.assert_array_equal(value_of("X[1,]", X=X), X[1])
    np.testing.assert_array_equal(value_of("v[0] + v[-1]", v=v), v[0] + v[-1])
    np.testing.assert_array_equal(value_of("v[1:]", v=v), v[1:])
    np.testing.assert_array_equal(value_of("v[::2]", v=v), v[::2])
    np.testing.assert_array_equal(value_of("v[::-1][1]", v=v), v[::-1][1])


def test_transpose_and_matmul():
    X = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(value_of("X.T", X=X), X.T)
    np.testing.assert_array_equal(value_of("-X.T[0]", X=X), -(X.T[0]))
    np.testing.assert_array_equal(value_of("X @ X.T", X=X), X @ X.T)
    np.testing.assert_array_equal(value_of("transpose(X, axes=(1, 0))", X=X), X.T)
    np.testing.assert_array_equal(value_of("2 * X @ X.T + 1", X=X), (2 * X) @ X.T + 1)


def test_tuple_and_list_arguments():
    X = np.arange(6.0).reshape(2, 3)
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])
    np.testing.assert_array_equal(value_of("reshape(X, (3, 2))", X=X), X.reshape(3, 2))
    np.testing.assert_array_equal(value_of("reshape(X, (2*3,))", X=X), X.reshape(6))
    np.testing.assert_array_equal(value_of("reshape(X, [6])", X=X), X.reshape(6))
    np.testing.assert_array_equal(value_of("concatenate([a, b])", a=a, b=b),
                                  np.concatenate([a, b]))
    np.testing.assert_array_equal(value_of("stack([a, 2*a], axis=1)", a=a),
                                  np.stack([a, 2 * a], axis=1))
    np.testing.assert_array_equal(value_of("s = (2, 3)\nreshape(X, s)", X=X), X.reshape(2, 3))


def test_true_false_and_none_as_arguments():
    X = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(value_of("sum(X, axis=None, keepdims=False)", X=X), X.sum())
    np.testing.assert_array_equal(value_of("mean(X, axis=0, keepdims=True)", X=X),
                                  X.mean(axis=0, keepdims=True))
    np.testing.assert_array_equal(value_of("transpose(X, None)", X=X), X.T)


def test_long_integer_literals_and_internal_names_as_inputs():
    assert value_of("12345678901234567890123 * x", x=np.float64(2.0)) == pytest.approx(
        2 * 12345678901234567890123.0)
    G = sg.parse("var * const")  # only calling them is reserved, not the names
    assert [v.name for v in G.inputs] == ["var", "const"]


def test_functions_are_looked_up_at_parse_time(monkeypatch):
    monkeypatch.setitem(REGISTRY.functions, "twice", lambda x: x * 2)
    assert value_of("twice(x) + 1", x=np.float64(3.0)) == 7.0


def test_internal_registry_names_are_not_callable():
    for name in ("var", "const", "sum_to"):
        with pytest.raises(sg.ParseError, match="unknown function"):
            sg.parse(f"{name}(x)")


def test_parsed_graph_gradients_match_central_differences():
    G = sg.parse("u = sin(x) * y**2\nu / (1 + exp(-x)) - log(y) * x")
    check_gradients(G, {"x": 0.7, "y": 1.3})


# -- statements ---------------------------------------------------------------------------------
def test_statements_comments_semicolons_and_blank_lines():
    text = """
        # a model
        h = x * 2   # first

        h = h + 1; k = h ** 2 ;
        k - h
    """
    G = sg.parse(text)
    assert sg.evaluate(G, {"x": 3.0})[0] == (7.0 ** 2 - 7.0)


def test_last_assignment_is_the_output_and_reassignment_sees_new_value():
    assert value_of("x = x + 1\nx = x * 2", x=np.float64(1.0)) == 4.0
    assert value_of("y = 5; x * y; y", x=np.float64(1.0)) == 5.0


def test_crlf_line_endings():
    G = sg.parse("y = x * 2\r\ny + 1\r\n")
    assert sg.evaluate(G, {"x": 1.0})[0] == 3.0


# -- inputs -------------------------------------------------------------------------------------
def test_inputs_in_order_of_first_appearance():
    G = sg.parse("y = b * 2\nz = a + y\nz * c + b")
    assert [v.name for v in G.inputs] == ["b", "a", "c"]


def test_inputs_not_used_by_the_output_are_left_out():
    G = sg.parse("q = w * 2\nx + 1", shapes={"never": (3,)})
    assert [v.name for v in G.inputs] == ["x"]


def test_shapes_and_dtypes():
    G = sg.parse("W @ x + b", shapes={"W": (3, 4), "x": (4,), "b": (3,), "unused": (9,)},
                 dtypes={"W": "float32", "x": "float32", "b": "float32"})
    assert [(v.name, v.shape, v.dtype) for v in G.inputs] == [
        ("W", (3, 4), "float32"), ("x", (4,), "float32"), ("b", (3,), "float32")]
    assert G.output.shape == (3,) and G.output.dtype == "float32"


def test_number_literals_keep_float32_graphs_float32():
    for text in ("x * 2 + 1", "x * (1/3)", "x * pi", "x ** -1", "x * sin(1)"):
        assert sg.parse(text, dtypes={"x": "float32"}).output.dtype == "float32", text


# -- errors -------------------------------------------------------------------------------------
ERRORS = [
    ("x ^ 2", 1, 3, "'**'"),
    ("sinn(x)", 1, 1, "did you mean 'sin'?"),
    ("x y", 1, 3, "two expressions in a row"),
    ("2 (x)", 1, 3, "missing operator"),
    ("(x)(y)", 1, 4, "missing operator"),
    ("x +", 1, 3, "no right operand"),
    ("a = 1\nb = a *\nc = 2", 2, 7, "no right operand"),
    ("1 +\n2", 1, 3, "no right operand"),
    ("x * * y", 1, 5, "expected an operand"),
    ("(x + 1", 1, 1, "never closed"),
    ("y = sin(x", 1, 8, "never closed"),
    ("x + 1)", 1, 6, "unmatched ')'"),
    (")", 1, 1, "unmatched ')'"),
    ("(x]", 1, 3, "does not match"),
    ("x + $", 1, 5, "unexpected character '$'"),
    ("x\n  y $", 2, 5, "unexpected character '$'"),
    ("x % 2", 1, 3, "'%'"),
    ("y = x == 2", 1, 7, "greater(a, b)"),
    ("x <= 2", 1, 3, "less(a, b)"),
    ("1.2.3", 1, 1, "malformed number '1.2.3'"),
    ("2 * 1e", 1, 5, "malformed number '1e'"),
    ("2x", 1, 1, "malformed number"),
    ("pi = 3", 1, 1, "reserved"),
    ("x\ne = 3", 2, 1, "reserved"),
    ("True = 1", 1, 1, "reserved"),
    ("sin = x", 1, 1, "function name"),
    ("y =", 1, 3, "right-hand side"),
    ("y = ; 2", 1, 3, "right-hand side"),
    ("= 3", 1, 1, "'='"),
    ("x + 1 = 2", 1, 7, "cannot assign"),
    ("sin(x) = 2", 1, 8, "cannot assign"),
    ("x = y = 1", 1, 7, "cannot assign"),
    ("", 1, 1, "nothing to parse"),
    ("  # only a comment\n\n ;", 1, 1, "nothing to parse"),
    ("x + x(2)", 1, 5, "'x' is an input"),
    ("y = 2\ny(3)", 2, 1, "assigned earlier"),
    ("pi(2)", 1, 1, "constant"),
    ("sin + 1", 1, 1, "is a function"),
    ("sin(x, y)", 1, 1, "takes 1 positional"),
    ("sin()", 1, 1, "takes 1 positional"),
    ("sin(x, axis=1)", 1, 1, "unexpected keyword argument 'axis'"),
    ("sum(x, axs=1)", 1, 1, "axs"),
    ("maximum(x)", 1, 1, "maximum"),
    ("sum(x, axis=1, axis=2)", 1, 16, "given twice"),
    ("sum(axis=1, x)", 1, 13, "positional argument after"),
    ("sum(x, axis=)", 1, 13, "has no value"),
    ("sin(,)", 1, 5, "expected an expression before ','"),
    ("(a = 1)", 1, 2, "keyword argument"),
    ("a, b", 1, 2, "outside brackets"),
    ("a : b", 1, 3, "slices"),
    ("(a : b)", 1, 4, "slices"),
    ("x[]", 1, 3, "empty index"),
    ("x[1.5]", 1, 3, "integer constants"),
    ("x[y]", 1, 3, "integer constants"),
    ("x[1:2:3:4]", 1, 8, "at most two"),
    ("x[0,,1]", 1, 5, "expected an expression"),
    ("x.shape", 1, 3, "only the attribute T"),
    ("x.2", 1, 2, "two expressions in a row"),
    ("x = (1, 2)\nx + 1", 2, 1, "a tuple"),
    ("-[x]", 1, 2, "a list"),
    ("True * x", 1, 1, "True"),
    ("(1, 2)", 1, 1, "must be an expression"),
    ("__import__(x)", 1, 1, "unknown function '__import__'"),
    ("eval(x)", 1, 1, "unknown function 'eval'"),
    ("x.__class__", 1, 3, "only the attribute T"),
]


@pytest.mark.parametrize("text, line, column, fragment", ERRORS, ids=[e[0] for e in ERRORS])
def test_parse_errors_point_at_the_problem(text, line, column, fragment):
    parse_error(text, line, column, fragment)


def test_unknown_function_without_a_close_match_lists_the_functions():
    err = parse_error("zzzzq(x)", 1, 1, "known functions:")
    assert "sin" in str(err) and "sum_to" not in str(err)


def test_shape_errors_keep_their_class_and_name_the_position():
    with pytest.raises(sg.ShapeError) as info:
        sg.parse("X @ a", shapes={"X": (2, 3), "a": (2,)})
    assert not isinstance(info.value, sg.ParseError)
    assert "matmul" in str(info.value) and "(line 1, column 3)" in str(info.value)
    with pytest.raises(sg.ShapeError, match=r"line 2, column 3\)\n    h \+ b\n      \^"):
        sg.parse("h = W @ x\nh + b", shapes={"W": (3, 4), "x": (4,), "b": (5,)})
    with pytest.raises(sg.ShapeError, match=r"line 1, column 5"):
        sg.parse("1 + reshape(X, (4, 2))", shapes={"X": (2, 3)})
    with pytest.raises(sg.ShapeError, match=r"line 1, column 5"):
        sg.parse("2 * x", dtypes={"x": "complex128"})


def test_never_evaluates_the_text(tmp_path):
    marker = tmp_path / "pwned"
    attacks = [f"__import__('os').system('touch {marker}')",
               f'__import__("os").system("touch {marker}")',
               "exec(x)", "open(x)", "x.__class__.__bases__", "lambda: 1", "x if y else z"]
    for text in attacks:
        with pytest.raises(sg.ParseError):
            sg.parse(text)
    assert not os.path.exists(marker)


def test_tokenizer_positions():
    tokens = tokenize("y = 2.5e-3*x  # c\n  z;.5")
    assert [(t[0], t[3], t[4]) for t in tokens] == [
        ("name", 1, 1), ("=", 1, 3), ("num", 1, 5), ("*", 1, 11), ("name", 1, 12),
        (";", 1, 18), ("name", 2, 3), (";", 2, 4), ("num", 2, 5), ("eof", 2, 7)]
    assert tokens[2][2] == 2.5e-3 and tokens[-2][2] == 0.5


# -- depth and size: no recursion anywhere -------------------------------------------------------
def test_parsing_needs_no_python_stack_depth():
    text = ("(" * 20_000 + "sin(" * 3_000 + "x" + ")" * 3_000 + ")" * 20_000
            + " + sum(reshape(y, " + "(" * 5_000 + "1," + ")" * 5_000 + "))")
    sg.parse("x")  # warm up imports before lowering the limit
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 60)
    try:
        G = sg.parse(text, shapes={"y": (1, 1)})
        with pytest.raises(sg.ParseError):
            sg.parse("[" * 20_000 + "x" + "]" * 20_000)
    finally:
        sys.setrecursionlimit(limit)
    assert len(G) == 3_000 + 5  # x, the sins, y, reshape, sum, add


def test_twenty_thousand_nested_parentheses():
    depth = 20_000
    G = sg.parse("(" * depth + "x" + ")" * depth + " + 1")
    assert sg.evaluate(G, {"x": 1.0})[0] == 2.0
    parse_error("(" * depth + "x" + ")" * (depth - 1), 1, 1, "never closed")
    parse_error("[" * depth + "x" + "]" * depth, 1, 1, "must be an expression")
    with pytest.raises(sg.ParseError):
        sg.parse("-" * depth + "(" * depth)


def test_chain_of_a_hundred_thousand_terms():
    n = 100_000
    G = sg.parse("x" + " + x*0.5" * n)
    assert len(G) == n + 3  # x, 0.5, x*0.5 (shared) and n additions
    half = G.output.inputs[1]
    assert half.op.name == "mul" and half.inputs[0] is G.inputs[0]
    node, depth = G.output, 0
    while node.op.name == "add":  # left-associative: ((x + h) + h) + ...
        assert node.inputs[1] is half
        node, depth = node.inputs[0], depth + 1
    assert depth == n and node is G.inputs[0]
    short = sg.parse("x" + " + x*0.5" * 1000)
    assert sg.evaluate(short, {"x": 2.0})[0] == pytest.approx(2.0 + 1000 * 1.0)


def test_calls_nested_a_hundred_thousand_deep():
    n = 100_000
    G = sg.parse("sin(" * n + "x" + ")" * n)
    assert len(G) == n + 1
    assert {node.op.name for node in G.nodes} == {"var", "sin"}
    x, expected = sg.var("x"), 0.9
    for _ in range(5):  # the value, on a short chain
        expected = math.sin(expected)
    five = sg.parse("sin(" * 5 + "x" + ")" * 5)
    assert sg.evaluate(five, {"x": 0.9})[0] == pytest.approx(expected, rel=1e-14)
    assert G.output.inputs[0].inputs[0] is G.nodes[n - 2] and G.inputs == (x,)
    assert sg.evaluate(sg.parse("-" * 20_001 + "x"), {"x": 3.0})[0] == -3.0
