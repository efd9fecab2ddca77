"""Scalar forms shared by the generated backends: an op's value on one number as a template in
numpy function names (``OpDef.emit["scalar"]``, or derived from a numpy ufunc forward), and the
rendering of a template into one backend's spelling."""

from __future__ import annotations

import inspect
import math
import re

import numpy as np

from ..ir import params_key

# numpy ufuncs spelled as operators; every other ufunc keeps its numpy name (about numpy, not ops)
_OPERATORS = {"add": "({0} + {1})", "subtract": "({0} - {1})", "multiply": "({0} * {1})",
              "divide": "({0} / {1})", "negative": "(-{0})", "greater": "({0} > {1})",
              "less": "({0} < {1})", "greater_equal": "({0} >= {1})",
              "less_equal": "({0} <= {1})", "equal": "({0} == {1})",
              "not_equal": "({0} != {1})", "positive": "(+{0})"}
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


def prepare(template: str, functions, params: dict, literal) -> str | None:
    """``template`` in one backend's spelling: each numpy function name replaced by
    ``functions[name]`` and ``{param}`` by its literal, leaving ``{0}``, ``{1}``... for the
    arguments; None when a function has no spelling there."""
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
    slots = {name: literal(value) for name, value in params.items() if f"{{{name}}}" in code}
    return re.sub(r"\{([A-Za-z_]\w*)\}", lambda m: slots[m.group(1)], code)


class Spellings:
    """Per (op, params): the prepared format string of a backend, computed once."""

    def __init__(self, functions, literal):
        self.functions, self.literal, self.cache = functions, literal, {}

    def __call__(self, node) -> str | None:
        key = (node.op, params_key(node.params))
        if key not in self.cache:
            form = scalar_form(node.op)
            self.cache[key] = (None if form is None else prepare(
                form, self.functions, {**_defaults(node.op.forward), **dict(node.params)},
                self.literal))
        return self.cache[key]


def _defaults(forward) -> dict:
    """The forward's keyword defaults (``round``'s ``decimals=0``), for a node built without
    them."""
    if not inspect.isfunction(forward):             # numpy ufuncs' own keywords are not the op's
        return {}
    return {p.name: p.default for p in inspect.signature(forward).parameters.values()
            if p.kind is p.KEYWORD_ONLY and p.default is not p.empty}


def float_literal(value: float, nan: str, inf: str) -> str:
    """A float as an exact source literal (``repr`` round-trips; NaN and infinities by name)."""
    value = float(value)
    if math.isnan(value):
        return nan
    if math.isinf(value):
        return inf if value > 0 else f"(-{inf})"
    return f"({value!r})" if math.copysign(1.0, value) < 0 else repr(value)
