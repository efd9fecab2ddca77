"""Straight-line code objects assembled from snippets, with no source text and no parser.

CPython's ``compile()`` costs about 10 µs per generated statement, nearly all of it in its
parser, so a 10^5-statement program takes seconds to compile. A straight-line program of scalar
operations does not need the parser: each distinct operation template is compiled by CPython
once, as a *snippet* (the bytecode of one expression over numbered operands), and the program's
code is the concatenation of snippets, each followed by a store of its value into a local,
with the snippet's operand loads pointed at the locals (or constants) holding the operands.
The bytecode is CPython's own, so the values are the compiled source's.

Only position-independent snippets are accepted: no jumps, no global or attribute lookups, only
loads of the snippet's parameters and constants (relocated) and opcodes without such operands
(copied with their inline caches). A Python version whose compiler emits anything else, or that
lacks the opcodes used here (3.10 and older), gets None from ``Assembler.snippet`` (and
``SUPPORTED`` is False), and callers generate source instead.
"""

from __future__ import annotations

import dis
import struct
import types

_OP = dis.opmap
_EXTENDED_ARG = _OP.get("EXTENDED_ARG")
_EMITTED = ("RESUME", "LOAD_FAST", "STORE_FAST", "LOAD_CONST", "BUILD_TUPLE", "RETURN_VALUE")
# opcodes a snippet may contain besides its loads: their operand is no jump, name or local
_PLAIN = frozenset(_OP[name] for name in (
    "BINARY_OP", "COMPARE_OP", "UNARY_NEGATIVE", "UNARY_POSITIVE", "UNARY_NOT", "UNARY_INVERT",
    "PUSH_NULL", "PRECALL", "CALL", "CACHE", "NOP", "BUILD_TUPLE", "TO_BOOL") if name in _OP)
_LOAD_FAST, _STORE_FAST = _OP.get("LOAD_FAST"), _OP.get("STORE_FAST")
_CONST_OPERAND = frozenset(_OP[name] for name in ("LOAD_CONST", "KW_NAMES") if name in _OP)


def _caches(name: str) -> int | None:
    """The inline cache entries following opcode ``name``; None when this Python hides it."""
    table = getattr(dis, "_inline_cache_entries", None)
    try:
        return table[name] if isinstance(table, dict) else table[_OP[name]]
    except (KeyError, IndexError, TypeError):
        return None


SUPPORTED = (_EXTENDED_ARG is not None and all(name in _OP for name in _EMITTED)
             and all(_caches(name) == 0 for name in _EMITTED))


def instruction(opcode: int, arg: int = 0) -> bytes:
    """One instruction (no inline caches), with the ``EXTENDED_ARG`` prefixes its argument
    needs."""
    if arg < 256:
        return bytes((opcode, arg))
    prefix = b"".join(bytes((_EXTENDED_ARG, (arg >> shift) & 0xFF))
                      for shift in (24, 16, 8) if arg >> shift)
    return prefix + bytes((opcode, arg & 0xFF))


def _local_instructions(opcode: int, start: int, stop: int) -> list:
    """``instruction(opcode, arg)`` for each arg in ``range(start, stop)``, built in bulk."""
    ext = _EXTENDED_ARG
    return [bytes((opcode, arg)) for arg in range(start, min(stop, 256))] + [
        bytes((ext, arg >> 8, opcode, arg & 0xFF))
        for arg in range(max(start, 256), min(stop, 1 << 16))] + [
        bytes((ext, arg >> 16, ext, (arg >> 8) & 0xFF, opcode, arg & 0xFF))
        for arg in range(max(start, 1 << 16), min(stop, 1 << 24))] + [
        instruction(opcode, arg) for arg in range(max(start, 1 << 24), stop)]


class Snippet:
    """One expression's bytecode: ``pieces[0]``, load of operand ``operands[0]``, ``pieces[1]``,
    ... ``pieces[-1]`` (an operand may be loaded several times, or never); ``stack`` is the
    most values it holds on the stack."""

    __slots__ = ("pieces", "operands", "stack", "in_order")

    def __init__(self, pieces: list, operands: list, stack: int, arity: int):
        self.pieces, self.operands, self.stack = pieces, operands, stack
        # the common case: every operand loaded once, in order, before any other instruction
        self.in_order = operands == list(range(arity)) and not any(pieces[:-1])


class Assembler:
    """Builds one function's code object: parameters first (``params``: the inputs, then the
    functions snippets call, bound as defaults), then value locals (``local``; the caller puts
    a local whose value is dead on ``free`` for reuse), and a constants table."""

    def __init__(self, params: list):
        self.params = list(params)
        self.index = {name: i for i, name in enumerate(self.params)}
        self.consts: list = []
        self._const_index: dict = {}
        self.n_locals = len(self.params)
        self.free: list = []                  # dead value locals, for reuse
        self.loads: list = []                 # LOAD_FAST bytes per local, built on demand
        self.stores: list = []

    def load_const(self, value) -> bytes:
        """``LOAD_CONST value``; equal values of another type or sign (1 and 1.0 and True, 0.0
        and -0.0, NaNs of other bits) stay distinct constants."""
        key = (type(value), struct.pack("<d", value) if isinstance(value, float) else value)
        index = self._const_index.get(key)
        if index is None:
            index = self._const_index[key] = len(self.consts)
            self.consts.append(value)
        return instruction(_OP["LOAD_CONST"], index)

    def local(self) -> int:
        """A free value local (a dead one when there is one); ``loads[local]`` and
        ``stores[local]`` are its load and store instructions."""
        if self.free:
            return self.free.pop()
        local = self.n_locals
        self.n_locals += 1
        self.load(local)
        return local

    def load(self, local: int) -> bytes:
        """``LOAD_FAST local`` (``loads`` and ``stores`` grow to cover it)."""
        loads = self.loads
        if local >= len(loads):                   # grown in blocks: fewer calls, same bytes
            stop = max(local + 1, len(loads) + 4096)
            loads += _local_instructions(_LOAD_FAST, len(loads), stop)
            self.stores += _local_instructions(_STORE_FAST, len(self.stores), stop)
        return loads[local]

    def snippet(self, expression: str, arity: int) -> Snippet | None:
        """The snippet of ``expression`` (generated text with operands ``{0}``, ``{1}``...;
        every other name must be one of ``params``), or None when CPython's bytecode for it is
        not position-independent (see the module docstring) or names something else."""
        operands = [f"_sg_{i}" for i in range(arity)]
        text = expression.format(*operands)
        code = compile(f"lambda {', '.join(operands)}: ({text})", "<snippet>", "eval")
        names = [name for name in code.co_consts[0].co_names if name not in operands]
        if any(name not in self.index for name in names):
            return None
        code = compile(f"lambda {', '.join(operands + names)}: ({text})", "<snippet>", "eval")
        code = code.co_consts[0]
        units = _units(code.co_code)
        if not units or units[0][0] != _OP["RESUME"] or units[-1][0] != _OP["RETURN_VALUE"]:
            return None
        pieces, order, piece = [], [], bytearray()
        for opcode, arg in units[1:-1]:
            if opcode == _LOAD_FAST:
                if arg < arity:
                    pieces.append(bytes(piece))
                    order.append(arg)
                    piece = bytearray()
                else:
                    piece += self.load(self.index[names[arg - arity]])
            elif opcode in _CONST_OPERAND:
                piece += _with_opcode(self.load_const(code.co_consts[arg]), opcode)
            elif opcode in _PLAIN:
                piece += instruction(opcode, arg)
            else:
                return None
        pieces.append(bytes(piece))
        return Snippet(pieces, order, code.co_stacksize, arity)

    def code(self, body: bytes, stack: int, name: str, filename: str) -> types.CodeType:
        """The function's code object: ``RESUME``, ``body`` (which ends returning)."""
        template = compile(f"def {name}({', '.join(self.params)}): pass", filename, "exec")
        template = next(c for c in template.co_consts if isinstance(c, types.CodeType))
        names = self.params + [f"_v{i}" for i in range(len(self.params), self.n_locals)]
        return template.replace(co_code=instruction(_OP["RESUME"]) + body,
                                co_consts=tuple(self.consts), co_names=(),
                                co_varnames=tuple(names), co_nlocals=len(names),
                                co_stacksize=stack, co_linetable=b"", co_exceptiontable=b"")

    @staticmethod
    def returning(count: int) -> bytes:
        """Return the last ``count`` values pushed, as a tuple."""
        return instruction(_OP["BUILD_TUPLE"], count) + instruction(_OP["RETURN_VALUE"])


def _with_opcode(encoded: bytes, opcode: int) -> bytes:
    """``encoded`` (an instruction and its prefixes) with its last opcode replaced."""
    return encoded[:-2] + bytes((opcode, encoded[-1]))


def _units(code: bytes) -> list:
    """(opcode, argument) of each code unit, ``EXTENDED_ARG`` prefixes folded in."""
    units, extended = [], 0
    for i in range(0, len(code), 2):
        opcode, arg = code[i], code[i + 1] | extended
        if opcode == _EXTENDED_ARG:
            extended = arg << 8
            continue
        extended = 0
        units.append((opcode, arg))
    return units
