"""Straight-line code objects assembled from snippets, with no source text and no parser.

CPython's ``compile()`` costs about 10 µs per generated statement, nearly all of it in its
parser, so a 10^5-statement program takes seconds to compile. A straight-line program of scalar
operations does not need the parser: each distinct operation template is compiled by CPython
once, as a *snippet* (the bytecode of one expression over numbered operands), and the program's
code is the concatenation of snippets, each followed by a store of its value into a local,
with the snippet's operand loads pointed at the locals (or constants) holding the operands
(``assemble``: numpy passes over the steps of each snippet, no Python work per operation).
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

import numpy as np

_OP = dis.opmap
_EXTENDED_ARG = _OP.get("EXTENDED_ARG")
_EMITTED = ("RESUME", "LOAD_FAST", "STORE_FAST", "LOAD_CONST", "BUILD_TUPLE", "RETURN_VALUE")
# opcodes a snippet may contain besides its loads: their operand is no jump, name or local
_PLAIN = frozenset(_OP[name] for name in (
    "BINARY_OP", "COMPARE_OP", "UNARY_NEGATIVE", "UNARY_POSITIVE", "UNARY_NOT", "UNARY_INVERT",
    "PUSH_NULL", "PRECALL", "CALL", "CACHE", "NOP", "BUILD_TUPLE", "TO_BOOL") if name in _OP)
_LOAD_FAST, _STORE_FAST, _LOAD_CONST = (_OP.get(name) for name in ("LOAD_FAST", "STORE_FAST",
                                                                     "LOAD_CONST"))
_ONE_BYTE_LIMITS = (0xFF, 0xFFFF, 0xFFFFFF)  # an argument above each needs one more prefix
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


def load(where: int) -> bytes:
    """The load of a value held by local ``where`` (>= 0) or constant ``~where``."""
    return instruction(_LOAD_FAST, where) if where >= 0 else instruction(_LOAD_CONST, ~where)


class Snippet:
    """One expression's bytecode: ``pieces[0]``, load of operand ``operands[0]``, ``pieces[1]``,
    ... ``pieces[-1]`` (an operand may be loaded several times, or never); ``arity`` operands;
    ``stack`` is the most values it holds on the stack."""

    __slots__ = ("pieces", "operands", "stack", "arity")

    def __init__(self, pieces: list, operands: list, stack: int, arity: int):
        self.pieces, self.operands, self.stack, self.arity = pieces, operands, stack, arity


class Assembler:
    """Builds one function's code object: parameters (``params``: the inputs, then the
    functions snippets call, bound as defaults), then the value locals, and a constants table."""

    def __init__(self, params: list):
        self.params = list(params)
        self.index = {name: i for i, name in enumerate(self.params)}
        self.consts: list = []
        self._const_index: dict = {}

    def const(self, value) -> int:
        """The index of constant ``value``; equal values of another type or sign (1 and 1.0 and
        True, 0.0 and -0.0, NaNs of other bits) stay distinct constants."""
        key = (type(value), struct.pack("<d", value) if isinstance(value, float) else value)
        index = self._const_index.get(key)
        if index is None:
            index = self._const_index[key] = len(self.consts)
            self.consts.append(value)
        return index

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
                    piece += instruction(_LOAD_FAST, self.index[names[arg - arity]])
            elif opcode in _CONST_OPERAND:
                piece += instruction(opcode, self.const(code.co_consts[arg]))
            elif opcode in _PLAIN:
                piece += instruction(opcode, arg)
            else:
                return None
        pieces.append(bytes(piece))
        return Snippet(pieces, order, code.co_stacksize, arity)

    def code(self, body: list, stack: int, n_values: int, name: str,
             filename: str) -> types.CodeType:
        """The function's code object: ``RESUME``, then the bytes-like parts of ``body`` (which
        end returning; joined in one copy), with ``n_values`` value locals after the
        parameters."""
        template = compile(f"def {name}({', '.join(self.params)}): pass", filename, "exec")
        template = next(c for c in template.co_consts if isinstance(c, types.CodeType))
        first = len(self.params)
        names = self.params + _local_names(first, first + n_values)
        return template.replace(co_code=b"".join([instruction(_OP["RESUME"]), *body]),
                                co_consts=tuple(self.consts), co_names=(),
                                co_varnames=tuple(names), co_nlocals=len(names),
                                co_stacksize=stack, co_linetable=b"", co_exceptiontable=b"")

    @staticmethod
    def returning(count: int) -> bytes:
        """Return the last ``count`` values pushed, as a tuple."""
        return instruction(_OP["BUILD_TUPLE"], count) + instruction(_OP["RETURN_VALUE"])


_DIGITS = [f"{i:03d}" for i in range(1000)]


def _local_names(start: int, stop: int) -> list:
    """``f"_v{i}"`` for ``i`` in ``range(start, stop)``: from 1000 on, the name of ``i`` is that
    of ``i // 1000`` joined to the three digits of ``i % 1000`` (a quarter of the cost of
    formatting each number, for the 10^4-10^5 locals of a large program)."""
    names = [f"_v{i}" for i in range(start, min(stop, 1000))]
    if stop > 1000:
        first = max(start, 1000) // 1000
        heads = [f"_v{i}" for i in range(first, -(-stop // 1000))]
        names += [head + tail for head in heads for tail in _DIGITS][
            max(start, 1000) - first * 1000:stop - first * 1000]
    return names


def assemble(snippets: list, kinds: np.ndarray, operands: np.ndarray, where: np.ndarray,
             targets: np.ndarray) -> memoryview:
    """The bytecode of straight-line steps (a view of the bytes, not copied: megabytes for a
    large program), built by numpy passes over the steps of each
    snippet (no Python work per step). Step ``i`` runs ``snippets[kinds[i]]`` on the next
    ``arity`` values of ``operands`` (each step's operands follow the previous step's) and
    stores its result into local ``targets[i]``; value ``v`` is loaded from ``where[v]``: a
    local when >= 0, else constant ``~where[v]``. Each load and store gets the ``EXTENDED_ARG``
    prefixes its argument needs, as ``instruction`` writes them."""
    arity = np.array([snippet.arity for snippet in snippets], dtype=np.intp)[kinds]
    loaded = where[operands]
    first_operand = np.cumsum(arity) - arity
    order = np.argsort(kinds.astype(np.min_scalar_type(len(snippets))), kind="stable")
    bounds = np.cumsum(np.bincount(kinds, minlength=len(snippets)))
    length = np.zeros(len(kinds), dtype=np.intp)        # each step's code units
    groups = []
    for snippet, steps in zip(snippets, np.split(order, bounds[:-1])):
        if not len(steps):
            continue
        # a step is pieces[0], instruction 0, pieces[1], ... pieces[-1], instruction -1: its
        # operand loads, then the store of its result
        rows, at = [], np.zeros(len(steps), dtype=np.intp)        # units so far
        operand_at = first_operand[steps]
        for piece, operand in zip(snippet.pieces, snippet.operands + [None]):
            at += len(piece) // 2
            if operand is None:
                opcode, arg = _STORE_FAST, targets[steps]
            else:
                value = loaded[operand_at + operand]
                opcode = np.where(value >= 0, _LOAD_FAST, _LOAD_CONST)
                arg = np.where(value >= 0, value, ~value)
            width = 1 + sum((arg > limit).view(np.int8) for limit in _ONE_BYTE_LIMITS)
            rows.append((piece, at.copy(), opcode, arg, width))
            at += width
        length[steps] = at
        groups.append((steps, rows))
    spare = 3                           # units before the code, for prefixes written in vain
    start = np.cumsum(length) - length + spare
    units = np.empty(spare + int(length.sum()), dtype="<u2")    # opcode | argument << 8
    rows = []
    for steps, group in groups:
        begin = start[steps]
        for piece, at, opcode, arg, width in group:
            at += begin
            rows.append((piece, at, at + width - 1, opcode, arg, width.max()))
    # each instruction's prefixes (before its own unit), farthest first, for every instruction
    # of a row where one needs them: one written in vain lands before the instruction, on a
    # unit written later (a nearer prefix, a piece, an own unit, or a spare unit)
    for count in (3, 2, 1):
        for _piece, _at, own, _opcode, arg, widest in rows:
            if widest > count:
                units[own - count] = _code_units(_EXTENDED_ARG, arg >> 8 * count)
    for piece, at, own, opcode, arg, _widest in rows:
        units[own] = _code_units(opcode, arg)
        for unit in np.frombuffer(piece, dtype="<u2")[::-1]:   # the piece before it
            at -= 1
            units[at] = unit
    return memoryview(units[spare:]).cast("B")


def _code_units(opcode, arg: np.ndarray) -> np.ndarray:
    """The code units ``opcode`` with argument byte ``arg & 0xFF``, as ``uint16`` (numpy writes
    them into the code twice as fast as wider integers that it has to cast)."""
    pair = np.empty((len(arg), 2), dtype=np.uint8)   # a unit's two bytes: opcode, argument
    pair[:, 0] = opcode
    pair[:, 1] = arg                                 # (the cast keeps the low byte)
    return pair.view("<u2").reshape(-1)


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
