"""User-defined ops: sg.define_op and sg.custom_gradient, checked against finite differences
and sympy, differentiated again, evaluated, printed, exported and saved."""

import numpy as np
import pytest
import sympy

import symgrad as sg
from tests.helpers.gradcheck import numeric_gradient

cube = sg.define_op("cube_test", infer=lambda x: (x.shape, x.dtype), forward=lambda x: x ** 3,
                    bprop=(lambda g, out, x: g * 3.0 * x * x,),
                    sympy=lambda sp, x: x ** 3)


def stable_log1pexp(x):
    return sg.log(1 + sg.exp(x))


log1pexp = sg.custom_gradient(stable_log1pexp, lambda g, out, x: (g * sg.sigmoid(x),))


def test_define_op_differentiates_twice_and_matches_finite_differences():
    G = sg.Graph(cube(sg.sin(sg.var("x"))))
    at = {"x": 0.8}
    d1 = sg.gradients(G, ["x"])
    assert float(sg.evaluate(d1, at)[0]) == pytest.approx(
        float(numeric_gradient(G, at, "x")), rel=1e-6)
    d2 = sg.gradients(d1, ["x"])
    assert float(sg.evaluate(d2, at)[0]) == pytest.approx(
        float(numeric_gradient(d1, at, "x")), rel=1e-6)


def test_define_op_is_parsed_printed_and_exported():
    G = sg.parse("cube_test(x) + 1")
    assert "cube_test" in str(G)
    x = sympy.Symbol("x")
    assert sympy.simplify(sg.to_sympy(sg.gradients(G, ["x"]))[0] - 3 * x**2) == 0
    assert sg.loads(sg.dumps(G)).nodes == G.nodes


def test_user_ops_stay_out_of_the_built_in_tables():
    from symgrad.ir import REGISTRY
    assert "cube_test" not in REGISTRY.ops and "cube_test" not in REGISTRY.functions
    assert REGISTRY.lookup("cube_test") is cube
    assert REGISTRY.lookup("stable_log1pexp") is log1pexp.op


def test_define_op_refuses_a_taken_name():
    with pytest.raises(sg.SymgradError, match="already exists"):
        sg.define_op("sin", infer=lambda x: (x.shape, x.dtype), forward=np.sin,
                     bprop=(None,))
    with pytest.raises(sg.SymgradError, match="already exists"):
        sg.define_op("cube_test", infer=lambda x: (x.shape, x.dtype), forward=np.sin,
                     bprop=(None,))


def test_custom_gradient_is_stable_where_the_plain_formula_is_not():
    x = sg.var("x")
    plain = sg.gradients(stable_log1pexp(x), ["x"])
    custom = sg.gradients(log1pexp(x), ["x"])
    with np.errstate(all="ignore"):
        assert np.isnan(sg.evaluate(plain, {"x": 800.0})[0])
    assert float(sg.evaluate(custom, {"x": 800.0})[0]) == 1.0
    for value in (-3.0, 0.0, 2.5):
        assert float(sg.evaluate(custom, {"x": value})[0]) == pytest.approx(
            float(numeric_gradient(sg.Graph(log1pexp(x)), {"x": value}, "x")), rel=1e-6)


def test_custom_gradient_differentiates_again_evaluates_and_prints():
    x = sg.var("x")
    G = sg.Graph(log1pexp(x * x))
    d2 = sg.gradients(sg.gradients(G, ["x"]), ["x"])
    s = sympy.Symbol("s")
    exact = sympy.diff(sympy.log(1 + sympy.exp(s * s)), s, 2).subs(s, 0.7)
    assert float(sg.evaluate(d2, {"x": 0.7})[0]) == pytest.approx(float(exact), rel=1e-10)
    assert "stable_log1pexp" in str(G)
    assert sympy.simplify(sg.to_sympy(G)[0] - sympy.log(1 + sympy.exp(s * s)).subs(
        s, sympy.Symbol("x"))) == 0


def test_custom_gradient_with_a_bad_bprop_says_so():
    bad = sg.custom_gradient(lambda a, b: a * b, lambda g, out, a, b: (g,), name="bad_arity")
    with pytest.raises(sg.SymgradError, match="1 contribution"):
        sg.gradients(bad(sg.var("x"), sg.var("y")), ["x"])


def test_graphs_with_user_ops_save_and_load_by_name():
    x = sg.var("x")
    G = sg.Graph(cube(log1pexp(x)))
    assert sg.loads(sg.dumps(G)).nodes == G.nodes
    text = sg.dumps(G).replace('"cube_test"', '"cube_undefined"')
    with pytest.raises(sg.SymgradError, match="sg.define_op"):
        sg.loads(text)


def test_forward_mode_through_user_ops_matches_finite_differences():
    x = sg.var("x")
    for f in (log1pexp(sg.sin(x)), cube(sg.sin(x))):
        J = sg.jvp(f, ["x"], [np.array(1.0)])
        assert float(sg.evaluate(J, {"x": 0.4})[0]) == pytest.approx(
            float(numeric_gradient(sg.Graph(f), {"x": 0.4}, "x")), rel=1e-6)
