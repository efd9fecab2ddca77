"""sg.check_grads (API §7): passes on correct derivatives at orders 1-3 in both dtypes, and
catches a wrong rule at the order where it is wrong, naming the input, the order and the
values, and saying when the point is at a kink."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
import symgrad.testing as testing
from symgrad.ir import REGISTRY
from symgrad.ops.arith import mul, neg
from symgrad.ops.elementwise import sin

x = sg.var("x", shape=(3,))
y = sg.var("y")
AT = {"x": [0.1, 0.5, 2.0], "y": 1.5}


@pytest.mark.parametrize("order", [1, 2, 3])
def test_smooth_functions_pass(order):
    sg.check_grads(sg.sum(sg.sin(x) * x) + sg.exp(y) * sg.tanh(y), AT, order=order)
    sg.check_grads(sg.softmax(x * y), AT, order=order)             # a vector output
    sg.check_grads(sg.logsumexp(sg.stack([x[0] * y, x[1], x[2] / y])), AT, order=order)


def test_float32_uses_float32_tolerances():
    x32 = sg.var("x32", shape=(3,), dtype="float32")
    sg.check_grads(sg.sum(sg.exp(x32) * sg.sin(x32)), {"x32": AT["x"]}, order=2)
    assert testing.EPS["float32"] > testing.EPS["float64"]


def test_a_wrong_first_derivative_is_reported(monkeypatch):
    monkeypatch.setattr(REGISTRY.ops["sin"], "bprop", (lambda g, out, a: mul(g, sin(a)),))
    with pytest.raises(sg.GradientCheckError) as info:
        sg.check_grads(sg.sum(sg.sin(x)) + y * y, AT)
    message = str(info.value)
    assert "order 1" in message and "rev mode" in message and "input(s) 'x' along" in message
    assert "'y'" not in message.split("along")[0]            # y's derivative is right
    assert isinstance(info.value, AssertionError) and isinstance(info.value, sg.SymgradError)


def test_a_wrong_second_derivative_is_reported_at_order_two(monkeypatch):
    cos = REGISTRY.ops["cos"]
    monkeypatch.setattr(cos, "bprop", (lambda g, out, a: mul(g, sin(a)),))   # sign flipped
    f = sg.sum(sg.sin(x))
    sg.check_grads(f, AT, order=1)                    # d sin = cos: right
    with pytest.raises(sg.GradientCheckError, match="order 2 derivative"):
        sg.check_grads(f, AT, order=2)


def test_kinks_are_named():
    with pytest.raises(sg.GradientCheckError, match="the point is at a kink"):
        sg.check_grads(sg.sum(sg.relu(x)), {"x": [0.0, 0.5, 2.0]})
    sg.check_grads(sg.sum(sg.relu(x)), {"x": [-1.0, 0.5, 2.0]})


def test_forward_mode_is_checked_when_jvp_exists(monkeypatch):
    def jvp(G, wrt, tangents, factor=1.0):
        # J t of a scalar output from its gradient (enough for this test)
        B = sg.gradients(G, wrt)
        total = sum(sg.sum(g * sg.const(np.asarray(t, dtype=g.dtype)))
                    for g, t in zip(B.outputs, tangents))
        return sg.Graph(total * factor, G.inputs)

    f = sg.sum(sg.sin(x) * y)
    monkeypatch.setattr(testing, "_forward_mode", lambda: jvp)
    sg.check_grads(f, AT, order=2, modes=("fwd",))
    monkeypatch.setattr(testing, "_forward_mode", lambda: lambda *a: jvp(*a, factor=2.0))
    with pytest.raises(sg.GradientCheckError, match=r"fwd mode"):
        sg.check_grads(f, AT, modes=("fwd",))
    sg.check_grads(f, AT, modes=("rev",))                 # reverse mode alone is unaffected


@pytest.mark.parametrize("call,error", [
    (lambda: sg.check_grads(sg.sin(y), {"y": 1.0}, order=4), sg.SymgradError),
    (lambda: sg.check_grads(sg.sin(y), {"y": 1.0}, modes=("sideways",)), sg.SymgradError),
    (lambda: sg.check_grads(sg.sin(y), {}), sg.InputError),
    (lambda: sg.check_grads(sg.sin(x), {"x": 1.0}), sg.InputError),
    (lambda: sg.check_grads(sg.sin(y), [1.0]), sg.InputError),
])
def test_bad_arguments(call, error):
    with pytest.raises(error):
        call()
