"""The numpy interpreter's buffer plan and compile-time constants: a dead array's buffer is
written again by a later elementwise step of its shape and dtype, uniform constants are read as
broadcast views, constant subexpressions are computed once; none of it changes a value, a dtype,
a shape or who owns an output."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
from symgrad.evaluate import Program, program
from symgrad.ir import OpDef, intern

from ..backends.helpers import assert_same
from ..helpers.memory_order import assert_summed_in_memory_order, reused_buffer_sums
from ..helpers.wrong_shape import (V_VALUE, W_VALUE, lying_rows, run_unchecked, wave_times_w,
                                  wrong_shape_graph)

v, w = sg.var("v", shape=(4,)), sg.var("w", shape=(4,))
VALUES = {"v": np.array([0.5, -1.5, 2.0, -0.0]), "w": np.array([1.0, 2.0, -3.0, 0.25])}


def _buffer_of(fn: Program, node) -> int | None:
    """The slot whose buffer the step computing ``node`` writes into (None: a new array)."""
    k = fn.schedule.slot[node]
    for _fn, *args, out, _frees in fn.program:
        if out == k:
            n = len(node.inputs)            # the buffer is the slot after the inputs'
            return args[n] if n < 3 and args[n] >= 0 else None
    raise AssertionError(f"{node!r} has no step")


def test_a_dead_buffer_is_written_by_a_later_step_of_its_shape():
    p, q = v * w, v + w
    r = p * q                               # writes into p (dies here); q dies here too
    s = sg.sin(v)                           # no input of its own to write: takes q's buffer
    fn = Program(sg.Graph(r + s))
    assert _buffer_of(fn, r) == fn.schedule.slot[p]
    assert _buffer_of(fn, s) == fn.schedule.slot[q]
    vv, wv = VALUES["v"].copy(), VALUES["w"].copy()
    (got,) = fn(v=vv, w=wv)
    assert_same(got, (vv * wv) * (vv + wv) + np.sin(vv))
    assert vv.tolist() == VALUES["v"].tolist() and wv.tolist() == VALUES["w"].tolist()


def test_buffers_of_outputs_and_of_values_still_seen_through_a_view_are_not_written():
    X = sg.var("X", shape=(2, 2))
    p = X * 2.0
    t = sg.transpose(p)                     # a view of p's buffer, read after p's last use
    late = sg.exp(X) + t
    out = X + 1.0                           # an output: its buffer is the caller's
    fn = Program(sg.Graph([late, out, sg.cos(X) * 3.0]))
    assert _buffer_of(fn, sg.exp(X)) is None
    xv = np.array([[0.1, -0.2], [0.3, 0.4]])
    got = fn(X=xv)
    assert_same(got[0], np.exp(xv) + (xv * 2.0).T)
    assert_same(got[1], xv + 1.0)
    assert_same(got[2], np.cos(xv) * 3.0)
    for i, a in enumerate(got):
        assert a.flags.owndata and not any(np.shares_memory(a, b) for b in got[i + 1:])


def test_a_buffer_of_another_shape_than_declared_is_never_broadcast_into():
    G, dead, wave = wrong_shape_graph(v, w)
    fn = Program(G)
    assert _buffer_of(fn, wave) == fn.schedule.slot[dead]
    assert_same(run_unchecked(fn)[1], wave_times_w())


def test_a_uniform_constant_is_read_as_a_broadcast_view_with_its_dtype():
    X = sg.var("X", shape=(3, 2), dtype="float32")
    c = sg.const(np.full((3, 2), 0.1, dtype=np.float32))
    mixed = sg.const(np.array([[0.0, -0.0]] * 3, dtype=np.float32))   # equal, not same bits
    M = sg.const(np.ones((2, 2), dtype=np.float32))                   # read by matmul
    G = sg.Graph([X * c + mixed, (X * 2.0) @ M], inputs=[X])
    fn = Program(G)
    slot = fn.schedule.slot
    assert fn.template[slot[c]].strides == (0, 0) and fn.template[slot[c]].dtype == np.float32
    assert fn.template[slot[mixed]] is mixed.value
    assert fn.template[slot[M]] is M.value
    xv = np.arange(6, dtype=np.float32).reshape(3, 2)
    got = fn(X=xv)
    assert_same(got[0], xv * np.float32(0.1) + mixed.value)
    assert np.signbit(got[0][0, 1]) == np.signbit(np.float32(0.0) * 0.1 + np.float32(-0.0))
    assert_same(got[1], (xv * np.float32(2.0)) @ M.value)


def test_constant_subexpressions_are_computed_once_at_compile():
    c = sg.const(np.array([0.5, 1.0, 1.5, 2.0]))
    folded = sg.exp(c) * 2.0
    big = sg.broadcast_to(sg.const(np.array([[3.0]])), (400, 400))   # a view: kept, no copy
    G = sg.Graph([v * folded, sg.sum(big * sg.var("B", shape=(400, 400)))])
    fn = sg.compile(G, optimize=False)
    steps = {fn.nodes[out].op.name for *_step, out, _frees in fn.program}
    assert "exp" not in steps and "broadcast_to" not in steps
    value = fn.template[fn.schedule.slot[folded]]
    assert not value.flags.writeable
    got = fn(v=VALUES["v"], B=np.ones((400, 400)))
    assert_same(got[0], VALUES["v"] * (np.exp(c.value) * 2.0))
    assert got[1] == 3.0 * 160000


def test_user_ops_and_ops_that_raise_on_constants_still_run_per_call():
    calls = []

    def forward(a):
        calls.append(1)
        return a + 1.0
    bump = OpDef("bump", infer=lambda a: (a.shape, a.dtype), forward=forward, bprop=(None,),
                 sympy=None)
    G = sg.Graph(v * intern(bump, (sg.const(np.array([1.0, 2.0, 3.0, 4.0])),)))
    fn = sg.compile(G, optimize=False)
    assert calls == []
    fn(v=VALUES["v"])
    fn(v=VALUES["v"])
    assert len(calls) == 2
    bad = intern(sg.ops.composite.cross_entropy_op,          # (building it would raise)
                 (sg.const(np.zeros((1, 3))), sg.const(np.array([7]))))
    fn = sg.compile(sg.Graph(bad * sg.var("s")), optimize=False)     # compiles
    with pytest.raises(sg.InputError, match="label 7"):
        fn(s=1.0)


def test_a_reused_buffer_keeps_the_memory_order_numpy_would_give():
    X = sg.var("X", shape=(16, 16))
    fn = Program(sg.Graph(list(reused_buffer_sums(X))))
    xv = np.random.default_rng(2).normal(size=(16, 16))
    assert_summed_in_memory_order(fn(X=xv)[1], xv)


def test_a_uniform_constant_read_as_a_view_keeps_the_memory_order_of_the_result():
    X = sg.var("X", shape=(16, 16))
    c = sg.const(np.full((16, 16), 0.37))
    G = sg.Graph([sg.sum(c * X), sg.sum(X - c)])
    fn = Program(G)
    assert fn.template[fn.schedule.slot[c]].strides == (0, 0)
    xv = np.asfortranarray(np.random.default_rng(3).normal(size=(16, 16)))
    full = np.full((16, 16), 0.37)
    got = fn(X=xv)
    assert_same(got[0], np.sum(full * xv))                   # numpy: a C-ordered product
    assert_same(got[1], np.sum(xv - full))
    assert not np.array_equal(np.sum(full * xv), np.sum(np.asfortranarray(full * xv)))


def test_a_step_writing_into_its_own_operand_calls_the_ufunc_with_out_and_keeps_numpy_s_result():
    X = sg.var("X", shape=(3, 4))
    row = sg.var("row", shape=(4,))
    p = sg.exp(X)                           # fresh, dies at q: q writes into it in place
    q = row * p                             # the buffer is q's second operand
    r = sg.sin(q)                           # a unary step in place
    fn = Program(sg.Graph(sg.sum(r, axis=1)))
    assert _buffer_of(fn, q) == fn.schedule.slot[p]
    assert _buffer_of(fn, r) == fn.schedule.slot[q]
    rng = np.random.default_rng(3)
    xv = np.asfortranarray(rng.normal(size=(3, 4)))      # numpy keeps Fortran order: so do we
    for x in (xv, np.ascontiguousarray(xv), xv[:, ::-1]):
        rv = np.array([0.5, -0.0, np.nan, -2.0])
        (got,) = fn(X=x, row=rv)
        assert_same(got, np.sum(np.sin(rv * np.exp(x)), axis=1))


def test_an_in_place_step_whose_other_operand_lies_about_its_shape_is_computed_as_numpy_would():
    rows = lying_rows(v)                    # declared (4,), really (2, 4)
    p = v * w                               # fresh, dies at q: q would write into it
    q = p + rows
    fn = Program(sg.Graph(q))
    assert _buffer_of(fn, q) == fn.schedule.slot[p]
    was, program.CHECK = program.CHECK, False      # (checking mode would report the lie)
    try:
        (got,) = fn(v=V_VALUE, w=W_VALUE)    # (2, 4) does not fit p's (4,): the plain call
    finally:
        program.CHECK = was
    assert_same(got, V_VALUE * W_VALUE + np.stack([V_VALUE, V_VALUE]))
