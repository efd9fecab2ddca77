"""Per-op checks over OP_SPECS: forward vs numpy, bprop vs central differences, nested
derivatives vs sympy.diff, broadcasting, float32, the kink conventions and extreme inputs."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import sympy

import symgrad as sg
from symgrad.ir import OpDef, intern
from symgrad.ops.elementwise import sin
from tests.helpers.gradcheck import check_gradients, numeric_gradient
from tests.ops.specs import OP_SPECS, nested_partials, sympy_partials, sympy_value

DIFFERENTIABLE = [spec for spec in OP_SPECS if spec.order >= 1]
BINARY = [spec for spec in OP_SPECS if spec.order >= 1 and len(spec.args) >= 2]


def ids(spec) -> str:
    return spec.name


def _rng(spec, salt=0):
    return np.random.default_rng([zlib.crc32(spec.name.encode()), salt])   # stable per op


# -- forward ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", OP_SPECS, ids=ids)
def test_forward_matches_numpy_reference(spec):
    shapes = [(16,)] * len(spec.args)
    G = spec.build(shapes)
    assert G.outputs[0].op is spec.op, f"{spec.name} was rewritten away at build time"
    values = spec.sample(np.random.default_rng(1), shapes)
    got = sg.evaluate(G, values)[0]
    expected = spec.reference(*values.values())
    assert got.shape == (16,) and got.dtype == np.dtype(G.outputs[0].dtype)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


# -- first derivatives vs central differences ------------------------------------------------------
@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=ids)
def test_first_derivative_matches_central_differences(spec):
    G = spec.build()
    rng = _rng(spec)
    for _ in range(3):
        point = spec.sample(rng)
        check_gradients(G, point, wrt=spec.differentiable, rtol=spec.fd_rtol, h=spec.fd_h)


# -- derivatives of order 1..3 by nesting vs sympy.diff of the op's own sympy rule -----------------
@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=ids)
def test_nested_derivatives_match_sympy(spec):
    G = spec.build()
    names = spec.differentiable
    partials = nested_partials(G, names, spec.order)
    symbols = spec.symbols(sympy)
    oracle = sympy_partials(sympy, spec.sympy_expr(sympy), symbols, partials)
    rng = _rng(spec, salt=1)
    for _ in range(3):
        point = spec.sample(rng)
        for key, graph in partials.items():
            got = sg.evaluate(graph, point)[0]
            expected = sympy_value(oracle[key], symbols, point)
            assert got.shape == () and got.dtype == np.dtype(graph.outputs[0].dtype)
            assert key == () or got.dtype == np.float64     # derivatives take the input's dtype
            np.testing.assert_allclose(got, expected, rtol=spec.rtol, atol=spec.atol,
                                       err_msg=f"d/d{key} of {spec.name} at {point}")


@pytest.mark.parametrize("spec", [s for s in OP_SPECS
                                  if len(s.differentiable) < len(s.args)], ids=ids)
def test_non_differentiable_arguments_are_disconnected(spec):
    G = spec.build()
    if G.outputs[0].dtype == "bool":                   # comparisons: nothing to differentiate
        for mode in ("zero", "raise"):
            with pytest.raises(sg.GradientError, match="not differentiable"):
                sg.gradients(G, list(spec.names), disconnected=mode)
        return
    for name in spec.names:
        if name in spec.differentiable:
            continue
        with pytest.raises(sg.GradientError, match="does not depend"):
            sg.gradients(G, [name], disconnected="raise")
        B = sg.gradients(G, [name])
        point = spec.sample(np.random.default_rng(3))
        assert sg.evaluate(B, point)[0] == 0.0


# -- broadcasting ----------------------------------------------------------------------------------
BROADCASTS = [((), (3,)), ((3,), ()), ((2, 1), (3,)), ((4,), (1,))]


@pytest.mark.parametrize("spec", BINARY, ids=ids)
@pytest.mark.parametrize("pair", BROADCASTS, ids=str)
def test_broadcast_vector_jacobian_product_matches_central_differences(spec, pair):
    shapes = list(pair) + [()] * (len(spec.args) - 2)
    G = spec.build(shapes)
    out_shape = np.broadcast_shapes(*shapes)
    assert G.outputs[0].shape == out_shape
    rng = _rng(spec, salt=2)
    point = spec.sample(rng, shapes)
    weights = rng.uniform(0.5, 1.5, size=out_shape)
    B = sg.gradients(G, list(spec.differentiable), grad_output=weights)
    got = sg.evaluate(B, point)
    weighted = sg.Graph(G.outputs[0] * sg.const(weights), inputs=G.inputs)
    for name, g in zip(spec.differentiable, got):
        assert g.shape == np.shape(point[name]), f"d/d{name} has the wrong shape"
        expected = numeric_gradient(weighted, point, name, h=spec.fd_h)
        np.testing.assert_allclose(g, expected, rtol=spec.fd_rtol, atol=1e-7)


# -- float32 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=ids)
def test_float32_stays_float32_through_two_derivatives(spec):
    G32 = spec.build(dtype="float32")
    G64 = spec.build()
    point = spec.sample(_rng(spec, salt=4))
    names = list(spec.differentiable)
    for B32, B64 in ((sg.gradients(G32, names), sg.gradients(G64, names)),
                     (sg.gradients(sg.gradients(G32, names)[0], names),
                      sg.gradients(sg.gradients(G64, names)[0], names))):
        widened = [n for n in B32.nodes if n.dtype == "float64"]
        assert not widened, f"{spec.name}: float64 nodes in a float32 gradient: {widened[:3]}"
        got = sg.evaluate(B32, point)
        assert all(g.dtype == np.float32 for g in got)
        np.testing.assert_allclose(got, sg.evaluate(B64, point), rtol=2e-3, atol=2e-3)


# -- the conventions at non-smooth points (API §2) -------------------------------------------------
x, y = sg.var("x"), sg.var("y")


def _grad(node, names, point):
    return [float(v) for v in sg.evaluate(sg.gradients(node, names), point)]


@pytest.mark.parametrize("fn", [sg.relu, sg.abs], ids=["relu", "abs"])
def test_relu_and_abs_have_derivative_zero_at_zero(fn):
    assert _grad(fn(x), ["x"], {"x": 0.0}) == [0.0]
    assert _grad(fn(x), ["x"], {"x": -0.0}) == [0.0]
    assert _grad(sg.gradients(fn(x), ["x"]), ["x"], {"x": 0.0}) == [0.0]


def test_sign_has_derivative_zero_everywhere():
    for value in (-2.0, 0.0, 3.0):
        assert _grad(sg.sign(x) * 1.0 + 0.0 * x, ["x"], {"x": value}) == [0.0]
    with pytest.raises(sg.GradientError):
        sg.gradients(sg.sign(x), ["x"], disconnected="raise")


@pytest.mark.parametrize("fn", [sg.maximum, sg.minimum], ids=["maximum", "minimum"])
def test_ties_split_the_gradient_evenly(fn):
    assert _grad(fn(x, x), ["x"], {"x": 1.5}) == [1.0]
    assert _grad(fn(x, y), ["x", "y"], {"x": 1.5, "y": 1.5}) == [0.5, 0.5]
    assert _grad(fn(x, 2.0), ["x"], {"x": 2.0}) == [0.5]
    winner = [1.0, 0.0] if fn is sg.maximum else [0.0, 1.0]
    assert _grad(fn(x, y), ["x", "y"], {"x": 2.0, "y": 1.0}) == winner


def test_relu_forward_at_zero_and_heaviside_value_at_zero():
    out = sg.evaluate(sg.Graph([sg.relu(x), sg.heaviside(x, at0=0.5)]), {"x": 0.0})
    assert [float(v) for v in out] == [0.0, 0.5]
    v = sg.var("v", shape=(5,))
    values = np.array([-1.0, 0.0, -0.0, 2.0, np.nan])
    step, drelu = sg.evaluate(sg.Graph([sg.heaviside(v, at0=0.5),
                                        sg.gradients(sg.relu(v), ["v"], grad_output=np.ones(5))
                                        .outputs[0]]), {"v": values})
    np.testing.assert_array_equal(step, [0.0, 0.5, 0.5, 1.0, np.nan])
    np.testing.assert_array_equal(drelu[:4], [0.0, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("at0", [0.0, 0.5, 1.0])
def test_heaviside_matches_numpy_bit_for_bit(dtype, at0):
    special = np.array([-np.inf, -1.0, -1e-45, -0.0, 0.0, 1e-45, 0.5, 2.0, np.inf, np.nan])
    for values in (special, special[:-1], np.resize(special, (40, 7))):   # with and without NaN
        values = values.astype(dtype)
        got = sg.evaluate(sg.heaviside(sg.var("v", values.shape, dtype), at0=at0),
                          {"v": values})[0]
        want = np.heaviside(values, np.asarray(at0, dtype=dtype))
        assert got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True)
        assert (np.signbit(got) == np.signbit(want))[~np.isnan(want)].all()


# -- overflow-free sigmoid and softplus ------------------------------------------------------------
EXTREMES = [(-1e308, 0.0, 0.0, 0.0, 0.0), (1e308, 1.0, 0.0, 1e308, 1.0),
            (-800.0, 0.0, 0.0, 0.0, 0.0), (800.0, 1.0, 0.0, 800.0, 1.0),
            (0.0, 0.5, 0.25, np.log(2.0), 0.5)]


@pytest.mark.parametrize("value, sig, dsig, soft, dsoft", EXTREMES)
def test_sigmoid_and_softplus_are_finite_and_exact_at_extremes(value, sig, dsig, soft, dsoft):
    point = {"x": value}
    for fn, f_value, d_value in ((sg.sigmoid, sig, dsig), (sg.softplus, soft, dsoft)):
        G = sg.Graph(fn(x))
        B1 = sg.gradients(G, ["x"])
        B2 = sg.gradients(B1, ["x"])
        B3 = sg.gradients(B2, ["x"])
        with np.errstate(all="raise"):
            f, d1, d2, d3 = (sg.evaluate(g, point)[0] for g in (G, B1, B2, B3))
        assert np.all(np.isfinite([f, d1, d2, d3])), f"{fn.name} at {value}"
        np.testing.assert_allclose([f, d1], [f_value, d_value], rtol=1e-15, atol=0)


def test_sigmoid_and_softplus_float32_extremes():
    x32 = sg.var("x", dtype="float32")
    values = np.array([-3e38, -1e4, 1e4, 3e38], dtype=np.float32)
    for v in values:
        out = sg.evaluate(sg.Graph([sg.sigmoid(x32), sg.softplus(x32)]), {"x": v})
        grads = sg.evaluate(sg.gradients(sg.softplus(x32), ["x"]), {"x": v})
        assert all(o.dtype == np.float32 and np.isfinite(o) for o in out + grads)
        assert float(out[0]) == (1.0 if v > 0 else 0.0)
        assert float(out[1]) == (float(v) if v > 0 else 0.0)


# -- pow with a constant exponent ------------------------------------------------------------------
def test_pow_with_constant_exponent_builds_no_log_and_allows_negative_base():
    B = sg.gradients(x ** 3, ["x"])
    assert "log" not in {n.op.name for n in B.nodes}
    assert _grad(x ** 3, ["x"], {"x": -2.0}) == [12.0]
    assert _grad(sg.gradients(x ** 3, ["x"]), ["x"], {"x": -2.0}) == [-12.0]
    assert _grad(x ** 2, ["x"], {"x": 0.0}) == [0.0]
    np.testing.assert_allclose(_grad(x ** 0.5, ["x"], {"x": 4.0}), [0.25])
    np.testing.assert_allclose(_grad(2.0 ** x, ["x"], {"x": 3.0}), [8.0 * np.log(2.0)])


# -- the checker itself catches wrong rules --------------------------------------------------------
def _unary_op(name, forward, rule):
    """A private, unregistered copy of an elementwise op with a chosen bprop rule."""
    return OpDef(name, infer=lambda a: (a.shape, a.dtype), forward=forward, bprop=(rule,),
                 sympy=None, elementwise=True)


BAD_COS = _unary_op("bad_cos", np.cos, lambda g, out, a: g * sin(a))   # sign flipped


def test_checker_catches_a_wrong_first_derivative():
    bad_sin = _unary_op("bad_sin", np.sin, lambda g, out, a: g * sin(a))
    G = sg.Graph(intern(bad_sin, (x,)))
    with pytest.raises(AssertionError, match="central differences"):
        check_gradients(G, {"x": 0.7})


def test_checker_catches_a_wrong_second_derivative():
    # first derivative right (its value is cos x), second wrong (bad_cos differentiates to +sin)
    sin_via_bad_cos = _unary_op("sin_via_bad_cos", np.sin,
                                lambda g, out, a: g * intern(BAD_COS, (a,)))
    G = sg.Graph(intern(sin_via_bad_cos, (x,)))
    check_gradients(G, {"x": 0.7})                      # order 1 passes
    with pytest.raises(AssertionError, match="central differences"):
        check_gradients(sg.gradients(G, ["x"]), {"x": 0.7})
    good = sg.gradients(sg.gradients(sg.sin(x), ["x"]), ["x"])
    assert float(sg.evaluate(good, {"x": 0.7})[0]) == pytest.approx(-np.sin(0.7))
