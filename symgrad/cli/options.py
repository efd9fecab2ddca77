"""Command-line inputs: the expression text, --shape, --dtype and --at values."""

from __future__ import annotations

import math
import re
import sys

import numpy as np

from .. import SymgradError, parse

MAX_ELEMENTS = 10**8  # --shape refuses inputs larger than this (800 MB of float64)
MAX_DIMS = 32         # --at values nest at most this deep (numpy's own limit is 64)


def read_expression(expr: str | None, file: str | None) -> str:
    """The expression text: EXPR itself, ``-`` for standard input, or the file of ``-f``."""
    if expr is not None and file is not None:
        raise SymgradError("give the expression either as EXPR or with -f FILE, not both")
    if file is not None:
        with open(file, encoding="utf-8") as handle:
            return handle.read()
    if expr is None:
        raise SymgradError("no expression: give EXPR, '-' to read standard input, or -f FILE")
    if expr == "-":
        return sys.stdin.read()
    return expr


def split_assignment(item: str, option: str) -> tuple:
    """``name=value`` -> (name, value), or a SymgradError naming the option."""
    name, sep, value = item.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise SymgradError(f"{option} expects name=value, got {item!r}")
    return name, value.strip()


def is_reserved(name: str) -> bool:
    """True for the names the parser reads as constants (``e``, ``pi``), not as inputs."""
    return name.isidentifier() and not parse(name).inputs


def check_input_name(name: str, option: str) -> None:
    if is_reserved(name):
        raise SymgradError(f"{option} {name}: {name!r} is a reserved constant in expressions "
                           f"(e = 2.718..., pi = 3.14...), not an input; rename that variable")


def parse_shapes(items) -> dict:
    """``["W=3,4", "b=4", "s="]`` -> ``{"W": (3, 4), "b": (4,), "s": ()}``; shapes with more
    than ``MAX_ELEMENTS`` elements are refused before anything is allocated."""
    shapes = {}
    for item in items or ():
        name, text = split_assignment(item, "--shape")
        check_input_name(name, "--shape")
        text = text.strip("()[] ")
        try:
            shape = tuple(int(d) for d in text.replace("x", ",").split(",") if d.strip())
        except ValueError:
            raise SymgradError(f"--shape {item!r}: dimensions must be integers separated by "
                               f"commas, e.g. W=3,4") from None
        if math.prod(shape) > MAX_ELEMENTS or any(d < 0 for d in shape):
            raise SymgradError(f"--shape {item!r}: {math.prod(shape):,} elements; the command "
                               f"line takes inputs of at most {MAX_ELEMENTS:,} non-negative "
                               f"elements (use the Python API for larger ones)")
        shapes[name] = shape
    return shapes


def parse_dtypes(items) -> dict:
    """``["y=int64"]`` -> ``{"y": "int64"}`` (checked later by the parser)."""
    return dict(split_assignment(item, "--dtype") for item in items or ())


def parse_values(items) -> dict:
    """``["x=1", "v=1,2,3", "W=[[1,2],[3,4]]"]`` -> name -> numpy array (numbers, ``nan``,
    ``inf`` and brackets; never evaluated as code)."""
    values = {}
    for item in items or ():
        name, text = split_assignment(item, "--at")
        check_input_name(name, "--at")
        if "," in text and not text.startswith("["):
            text = f"[{text}]"
        values[name] = parse_array(text, item)
    return values


_TOKEN = re.compile(r"\s*(?:(\[)|(\])|(,)|([^\[\],\s]+))")


def parse_array(text: str, item: str) -> np.ndarray:
    """The array written as ``text`` (a number or nested brackets), read with an explicit
    stack (any depth of input gives a message, never a RecursionError)."""
    def fail(why: str):
        shown = item if len(item) <= 60 else item[:57] + "..."
        return SymgradError(f"--at {shown!r}: {why}; write a number or a list of numbers, "
                            f"e.g. x=1.5 or v=1,2,3 or W=[[1,2],[3,4]]")

    stack, expect_value, pos = [[]], True, 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise fail(f"unexpected {text[pos]!r} at character {pos + 1}")
        pos = match.end()
        opening, closing, comma, word = match.groups()
        if opening:
            if not expect_value:
                raise fail("a ',' is missing before '['")
            if len(stack) > MAX_DIMS:
                raise fail(f"nested more than {MAX_DIMS} levels deep")
            stack.append([])
        elif closing:
            if len(stack) == 1 or (expect_value and stack[-1]):
                raise fail("unbalanced ']' or a ',' before it")
            done = stack.pop()
            stack[-1].append(done)
            expect_value = False
        elif comma:
            if expect_value or len(stack) == 1:
                raise fail("misplaced ','")
            expect_value = True
        else:
            if not expect_value:
                raise fail(f"a ',' is missing before {word[:20]!r}")
            stack[-1].append(number(word, fail))
            expect_value = False
    if len(stack) != 1:
        raise fail("a '[' is never closed")
    if len(stack[0]) != 1:
        raise fail("no value")
    try:
        return np.array(stack[0][0])
    except ValueError:
        raise fail("the rows have different lengths (a ragged array)") from None


def number(word: str, fail):
    """An int (for int64 inputs) or a float, from one token of an --at value."""
    try:
        return int(word) if re.fullmatch(r"[+-]?\d+", word) else float(word)
    except ValueError:
        raise fail(f"{word[:20]!r} is not a number") from None
