"""The python backend's tensor path follows the numpy interpreter's plan: a dead array's buffer
is written again by a later elementwise step of its shape and dtype, uniform constants are read
as broadcast views, constant subexpressions are computed once (when the generated module runs);
values, dtypes, shapes, memory order and who owns an output stay the interpreter's."""

from __future__ import annotations

import re

import numpy as np

import symgrad as sg
from symgrad.evaluate import Program
from symgrad.ir import REGISTRY, intern

from ..helpers.memory_order import assert_summed_in_memory_order, reused_buffer_sums
from ..helpers.wrong_shape import run_unchecked, wave_times_w, wrong_shape_graph
from .helpers import assert_same

v, w = sg.var("v", shape=(4,)), sg.var("w", shape=(4,))
VALUES = {"v": np.array([0.5, -1.5, 2.0, -0.0]), "w": np.array([1.0, 2.0, -3.0, 0.25])}


def _both(G):
    return sg.compile(G, backend="python", optimize=False), Program(G)


def _written_into(fn, node) -> int | None:
    """The slot whose buffer the python step computing ``node`` (not an output) writes into
    (None: a new array)."""
    k = fn.schedule.slot[node]
    line = re.search(rf"^    v{k} = (?!R\[).*$", fn.source[fn.source.index("def _part"):], re.M)
    if line is None:
        raise AssertionError(f"{node!r} has no step")
    call = re.match(r".* = _into_\w+\((.*)\)$", line.group(0))
    return None if call is None else int(call.group(1).split(", ")[-1].lstrip("v"))


def test_steps_write_into_the_dead_buffers_the_interpreter_chose():
    p, q = v * w, v + w
    r = p * q                               # into p (dies here)
    s = sg.sin(v)                           # into q's buffer, dead since r
    G = sg.Graph(r + s)
    fn, interpreter = _both(G)
    slot = fn.schedule.slot
    assert _written_into(fn, r) == slot[p] and _written_into(fn, s) == slot[q]
    vv, wv = VALUES["v"].copy(), VALUES["w"].copy()
    assert_same(fn(v=vv, w=wv)[0], interpreter(v=vv, w=wv)[0])
    assert vv.tolist() == VALUES["v"].tolist() and wv.tolist() == VALUES["w"].tolist()


def test_a_reused_buffer_never_clobbers_a_live_value():
    values = [v * w]
    for i in range(12):                     # many same-shape values, some read much later
        values.append(sg.sin(values[-1]) * values[i // 2] + values[i // 3])
    G = sg.Graph([values[-1], values[5] * 2.0, values[3] - values[-2]])
    fn, interpreter = _both(G)
    assert "_into_" in fn.source
    for got, expected in zip(fn(VALUES), interpreter(VALUES)):
        assert_same(got, expected)


def test_outputs_and_buffers_seen_through_a_view_are_never_written_nor_shared():
    X = sg.var("X", shape=(2, 2))
    p = X * 2.0
    t = sg.transpose(p)                     # a view of p's buffer, read after p's last use
    late = sg.exp(X) + t
    out = X + 1.0
    G = sg.Graph([late, out, sg.cos(X) * 3.0, p])
    fn, interpreter = _both(G)
    assert _written_into(fn, sg.exp(X)) is None
    xv = np.array([[0.1, -0.2], [0.3, 0.4]])
    first = fn(X=xv)
    kept = [a.copy() for a in first]
    second = fn(X=xv * 2)                   # a second call leaves the first one's outputs alone
    for got, copy, expected in zip(first, kept, interpreter(X=xv)):
        assert_same(got, expected)
        assert_same(got, copy)
    for outputs in (first, second):
        for i, a in enumerate(outputs):
            assert a.flags.owndata and a.flags.writeable
            assert not any(np.shares_memory(a, b) for b in outputs[i + 1:])
    assert not any(np.shares_memory(a, b) for a in first for b in second)


def test_constants_are_computed_once_and_uniform_ones_read_as_views():
    X = sg.var("X", shape=(3, 2), dtype="float32")
    c = sg.const(np.full((3, 2), 0.1, dtype=np.float32))
    mixed = sg.const(np.array([[0.0, -0.0]] * 3, dtype=np.float32))   # equal, not same bits
    exp = REGISTRY.lookup("exp")            # (sg.exp on a constant folds as it builds)
    folded = intern(exp, (sg.const(np.array([0.5, 1.0], dtype=np.float32)),)) * 2.0
    G = sg.Graph([X * c + mixed, X * folded], inputs=[X])
    fn, interpreter = _both(G)
    slot, body = fn.schedule.slot, fn.source[fn.source.index("def _part"):]
    assert f"c{slot[c]} = np.broadcast_to(" in fn.source
    assert f"c{slot[folded]} = _frozen(" in fn.source and "np.exp(" not in body
    xv = np.arange(6, dtype=np.float32).reshape(3, 2)
    for got, expected in zip(fn(X=xv), interpreter(X=xv)):
        assert_same(got, expected)
    namespace: dict = {}
    exec(fn.source, namespace)
    assert not namespace[f"c{slot[folded]}"].flags.writeable
    assert namespace[f"c{slot[c]}"].strides == (0, 0)


def test_a_reused_buffer_keeps_the_memory_order_numpy_would_give():
    X = sg.var("X", shape=(16, 16))
    first, total = reused_buffer_sums(X)
    c = sg.const(np.full((16, 16), 0.37))   # a stride-0 view: its readers ask for C order
    G = sg.Graph([first, total, sg.sum(c * X), sg.sum(X - c)])
    fn, interpreter = _both(G)
    rng = np.random.default_rng(2)
    for xv in (rng.normal(size=(16, 16)), np.asfortranarray(rng.normal(size=(16, 16)))):
        for got, expected in zip(fn(X=xv), interpreter(X=xv)):
            assert_same(got, expected)
    xv = rng.normal(size=(16, 16))
    assert_summed_in_memory_order(fn(X=xv)[1], xv)


def test_a_constant_keeps_its_memory_order():
    x = sg.var("x")
    rng = np.random.default_rng(4)
    c = sg.const(np.asfortranarray(rng.normal(size=(16, 16))))
    assert c.value.flags.f_contiguous and not c.value.flags.c_contiguous
    G = sg.Graph([sg.sum(c * x)])           # numpy: an F-ordered product, summed in that order
    fn, interpreter = _both(G)
    expected = interpreter(x=1.3)[0]
    assert not np.array_equal(expected, np.sum(np.ascontiguousarray(c.value * 1.3)))
    assert_same(fn(x=1.3)[0], expected)


def test_a_buffer_of_another_shape_than_declared_is_never_broadcast_into():
    G, dead, wave = wrong_shape_graph(v, w)
    fn = sg.compile(G, backend="python", optimize=False)
    assert _written_into(fn, wave) == fn.schedule.slot[dead]
    got = run_unchecked(fn)
    assert_same(got[1], wave_times_w())
