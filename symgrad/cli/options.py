"""Command-line inputs: the expression text, --shape, --dtype and --at values."""

from __future__ import annotations

import json
import re
import sys

import numpy as np

from .. import SymgradError


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


def parse_shapes(items) -> dict:
    """``["W=3,4", "b=4", "s="]`` -> ``{"W": (3, 4), "b": (4,), "s": ()}``."""
    shapes = {}
    for item in items or ():
        name, text = split_assignment(item, "--shape")
        text = text.strip("()[] ")
        try:
            shapes[name] = tuple(int(d) for d in text.replace("x", ",").split(",") if d.strip())
        except ValueError:
            raise SymgradError(f"--shape {item!r}: dimensions must be integers separated by "
                               f"commas, e.g. W=3,4") from None
    return shapes


def parse_dtypes(items) -> dict:
    """``["y=int64"]`` -> ``{"y": "int64"}`` (checked later by the parser)."""
    return dict(split_assignment(item, "--dtype") for item in items or ())


def parse_values(items) -> dict:
    """``["x=1", "v=1,2,3", "W=[[1,2],[3,4]]"]`` -> name -> numpy array (JSON syntax, never
    evaluated as code)."""
    values = {}
    for item in items or ():
        name, text = split_assignment(item, "--at")
        if "," in text and not text.startswith("["):
            text = f"[{text}]"
        try:
            value = json.loads(re.sub(r"\bnan\b", "NaN", re.sub(r"\binf\b", "Infinity", text)))
        except json.JSONDecodeError:
            raise SymgradError(f"--at {item!r}: the value must be a number or a list of "
                               f"numbers, e.g. x=1.5 or v=1,2,3 or W=[[1,2],[3,4]]") from None
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise SymgradError(f"--at {item!r}: the value must be numeric")
        values[name] = array
    return values
