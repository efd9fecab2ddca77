"""Code objects assembled from snippets (``symgrad/backends/bytecode.py``): wide operands,
constants kept apart by type and bits, and the snippets refused (they fall back to source)."""

from __future__ import annotations

import dis
import math
import struct
import types

import numpy as np
import pytest

from symgrad.backends import bytecode
from symgrad.backends.bytecode import Assembler, assemble, instruction, load

pytestmark = pytest.mark.skipif(not bytecode.SUPPORTED,
                                reason="this Python's bytecode is not assembled (source is used)")


def _function(asm: Assembler, body: list, stack: int, n_values: int = 0, defaults=()):
    code = asm.code(body, stack, n_values, "_test", "<test>")
    return types.FunctionType(code, {}, "_test", defaults or None)


@pytest.mark.parametrize("count", [3, 300, 70_000])      # one, two and three byte operands
def test_a_value_stored_in_a_far_local_comes_back(count):
    asm = Assembler(["x"])
    far = count                                          # the last of locals 1 ... count
    same = asm.snippet("{0}", 1)
    # x -> local far -> local 1, each step an assembled load and store
    body = assemble([same], np.array([0, 0]), np.array([0, 1]), np.array([0, far, 1]),
                    np.array([far, 1]))
    fn = _function(asm, [body, load(1), asm.returning(1)], 1, count)
    assert fn(2.5) == (2.5,)
    wide = [i for i in dis.get_instructions(fn.__code__) if i.opname in ("LOAD_FAST", "STORE_FAST")]
    assert [i.arg for i in wide] == [0, far, far, 1, 1]
    assert fn.__code__.co_varnames == ("x",) + tuple(f"_v{i}" for i in range(1, count + 1))


def test_equal_constants_of_other_types_or_bits_stay_apart():
    asm = Assembler([])
    nan = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000001))[0]
    values = [0.0, -0.0, 1, 1.0, True, math.nan, nan]
    body = b"".join(load(~asm.const(v)) for v in values) + asm.returning(len(values))
    assert asm.const(-0.0) == asm.const(-0.0) != asm.const(0.0)  # the same constant, once
    result = _function(asm, [body], len(values))()
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
    body = assemble([snippet], np.array([0]), np.array([0, 1]), np.array([0, 1, 4]),
                    np.array([4]))                        # a, b -> the first value local
    fn = _function(asm, [body, load(4), asm.returning(1)], snippet.stack, 1,
                   (lambda x, k: x + k, math.sqrt))
    assert fn(*args) == (expected,)


def _one_step_at_a_time(snippets, kinds, operands, where, targets) -> bytes:
    """``assemble``'s bytes, written the plain way: instruction by instruction."""
    code, next_operand = [], 0
    for kind, target in zip(kinds, targets):
        snippet = snippets[kind]
        values = operands[next_operand:next_operand + snippet.arity]
        next_operand += snippet.arity
        code.append(snippet.pieces[0])
        for operand, piece in zip(snippet.operands, snippet.pieces[1:]):
            code += [load(int(where[values[operand]])), piece]
        code.append(instruction(dis.opmap["STORE_FAST"], int(target)))
    return b"".join(code)


def test_assembled_steps_are_their_instructions_with_the_prefixes_their_arguments_need():
    asm = Assembler(["a", "_f"])
    forms = [("{0} * {1}", 2), ("_f({0})", 1), ("{1} - {0} * {1}", 2), ("-{0}", 1), ("2.5", 0)]
    snippets = [asm.snippet(form, arity) for form, arity in forms]
    rng = np.random.default_rng(0)
    kinds = rng.integers(0, len(snippets), 500)
    arity = np.array([arity for _form, arity in forms])[kinds]
    # locals and constants of one, two, three and four byte arguments
    where = rng.choice([0, 7, 255, 256, 65535, 65536, 1 << 24, ~0, ~300, ~70_000], 1000)
    operands = rng.integers(0, len(where), int(arity.sum()))
    targets = rng.choice([2, 255, 256, 70_000, 1 << 24], len(kinds))
    assert (assemble(snippets, kinds, operands, where, targets)
            == _one_step_at_a_time(snippets, kinds, operands, where, targets))


@pytest.mark.parametrize("form", [
    "{0} if {1} else 2.0",        # a jump
    "math.sin({0})",              # an attribute lookup
    "_unknown({0})",              # a name that is not a parameter
    "[{0} for _ in ()]",          # a nested code object
])
def test_snippets_that_are_not_position_independent_are_refused(form):
    asm = Assembler(["a", "b", "math"])
    assert asm.snippet(form, 2) is None


def test_snippets_without_steps_and_programs_without_steps_assemble():
    asm = Assembler(["a"])
    snippets = [asm.snippet("{0} + 1.0", 1), asm.snippet("-{0}", 1)]
    empty = np.array([], dtype=np.intp)
    assert assemble(snippets, empty, empty, np.array([0]), empty) == b""
    body = assemble(snippets, np.array([1]), np.array([0]), np.array([0, 1]), np.array([1]))
    assert _function(asm, [body, load(1), asm.returning(1)], 1, 1)(2.0) == (-2.0,)
