"""Code objects assembled from snippets (``symgrad/backends/bytecode.py``): wide operands,
constants kept apart by type and bits, and the snippets refused (they fall back to source)."""

from __future__ import annotations

import dis
import math
import struct
import types

import pytest

from symgrad.backends import bytecode
from symgrad.backends.bytecode import Assembler

pytestmark = pytest.mark.skipif(not bytecode.SUPPORTED,
                                reason="this Python's bytecode is not assembled (source is used)")


def _function(asm: Assembler, body: bytes, stack: int, defaults=()):
    code = asm.code(body, stack, "_test", "<test>")
    return types.FunctionType(code, {}, "_test", defaults or None)


@pytest.mark.parametrize("count", [3, 300, 70_000])      # one, two and three byte operands
def test_a_value_stored_in_a_far_local_comes_back(count):
    asm = Assembler(["x"])
    locals_ = [asm.local() for _ in range(count)]
    far = locals_[-1]
    body = asm.load(0) + asm.stores[far] + asm.loads[far] + asm.returning(1)
    fn = _function(asm, body, 1)
    assert fn(2.5) == (2.5,)
    wide = [i for i in dis.get_instructions(fn.__code__) if i.opname in ("LOAD_FAST", "STORE_FAST")]
    assert [i.arg for i in wide] == [0, far, far]


def test_a_dead_local_is_reused():
    asm = Assembler([])
    first = asm.local()
    asm.free.append(first)
    assert asm.local() == first and asm.local() == first + 1


def test_equal_constants_of_other_types_or_bits_stay_apart():
    asm = Assembler([])
    nan = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000001))[0]
    values = [0.0, -0.0, 1, 1.0, True, math.nan, nan]
    body = b"".join(asm.load_const(v) for v in values) + asm.returning(len(values))
    assert asm.load_const(-0.0) == asm.load_const(-0.0)          # the same constant, once
    result = _function(asm, body, len(values))()
    assert [type(v) for v in result] == [type(v) for v in values]
    assert [struct.pack("<d", v) for v in result] == [struct.pack("<d", v) for v in values]


@pytest.mark.parametrize("form, args, expected", [
    ("{0} * {1} + 1.5", (2.0, 3.0), 7.5),
    ("{1} - {0}", (2.0, 3.0), 1.0),                       # operands out of order
    ("{0} * {0}", (3.0, 0.0), 9.0),                       # an operand loaded twice
    ("-{0} < {1}", (2.0, -1.0), True),
    ("_f({0}, k={1})", (2.0, 5.0), 7.0),                  # a keyword call (its names constant)
    ("_f(_g({0}), k=0.5)", (9.0, 0.0), 3.5),
])
def test_snippets_compute_their_expression(form, args, expected):
    asm = Assembler(["a", "b", "_f", "_g"])
    snippet = asm.snippet(form, 2)
    assert snippet is not None
    body, loads = snippet.pieces[0], [asm.load(0), asm.load(1)]
    for piece, operand in zip(snippet.pieces[1:], snippet.operands):
        body += loads[operand] + piece
    fn = _function(asm, body + asm.returning(1), snippet.stack,
                   (lambda x, k: x + k, math.sqrt))
    assert fn(*args) == (expected,)


@pytest.mark.parametrize("form", [
    "{0} if {1} else 2.0",        # a jump
    "math.sin({0})",              # an attribute lookup
    "_unknown({0})",              # a name that is not a parameter
    "[{0} for _ in ()]",          # a nested code object
])
def test_snippets_that_are_not_position_independent_are_refused(form):
    asm = Assembler(["a", "b", "math"])
    assert asm.snippet(form, 2) is None
