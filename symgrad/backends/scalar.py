"""Scalar forms shared by the generated backends: an op's value on one number as a template in
numpy function names (``OpDef.emit["scalar"]``, or derived from a numpy ufunc forward), and the
rendering of a template into one backend's spelling."""

from __future__ import annotations

import math
import re

import numpy as np

# numpy ufuncs spelled as operators; every other ufunc keeps its numpy name (about numpy, not ops)
_OPERATORS = {"add": "({0} + {1})", "subtract": "({0} - {1})", "multiply": "({0} * {1})",
              "divide": "({0} / {1})", "negative": "(-{0})", "greater": "({0} > {1})",
              "less": "({0} < {1})", "positive": "(+{0})"}
_CALL = re.compile(r"\b([A-Za-z_]\w*)\(")


def scalar_form(op) -> str | None:
    """The op's scalar template, or None when it has none."""
    form = op.emit.get("scalar")
    if form is not None:
        return form
    forward = op.forward
    if isinstance(forward, np.ufunc):
        name = forward.__name__
        if name in _OPERATORS:
            return _OPERATORS[name]
        return f"{name}({', '.join('{%d}' % i for i in range(forward.nin))})"
    if forward is np.where:
        return "where({0}, {1}, {2})"
    return None


def render(template: str, functions: dict, args: list, params: dict, literal) -> str | None:
    """``template`` with each numpy function name replaced by ``functions[name]``, ``{i}`` by
    ``args[i]`` and ``{param}`` by its literal; None when a function has no spelling here."""
    missing = []

    def spell(match):
        name = match.group(1)
        if name not in functions:
            missing.append(name)
            return match.group(0)
        return functions[name] + "("
    code = _CALL.sub(spell, template)
    if missing:
        return None
    return code.format(*args, **{k: literal(v) for k, v in params.items()})


def float_literal(value: float, nan: str, inf: str) -> str:
    """A float as an exact source literal (``repr`` round-trips; NaN and infinities by name)."""
    value = float(value)
    if math.isnan(value):
        return nan
    if math.isinf(value):
        return inf if value > 0 else f"(-{inf})"
    return f"({value!r})" if math.copysign(1.0, value) < 0 else repr(value)
