"""Calling registry functions from parsed text: argument checks and positioned errors."""

from __future__ import annotations

import functools
import inspect

from ..errors import ParseError, SymgradError
from ..ir import OpDef
from .lexer import Source

# What a builder may raise for bad input from the text (anything else is a bug and propagates).
BUILD_ERRORS = (SymgradError, TypeError, ValueError, IndexError, KeyError, ArithmeticError)


def argument_problem(name: str, fn, args: tuple, kwargs: dict) -> str | None:
    """Why ``fn(*args, **kwargs)`` has the wrong arguments, or None if they fit its signature.

    A primitive (OpDef) takes one positional argument per bprop rule and, as keywords, exactly
    the keyword-only parameters of its type rule (elementwise rules take none); a plain
    builder is checked against its Python signature.

    >>> from symgrad.ir import REGISTRY
    >>> argument_problem("sin", REGISTRY.functions["sin"], (1.0, 2.0), {})
    'sin() takes 1 positional argument(s) but 2 were given'
    """
    if not isinstance(fn, OpDef):
        signature = _signature(fn)
        if signature is not None:
            try:
                signature.bind(*args, **kwargs)
            except TypeError as exc:
                return f"bad arguments to {name}(): {exc}"
        return None
    arity = None if callable(fn.bprop) else len(fn.bprop)
    if arity is not None and len(args) != arity:
        return f"{name}() takes {arity} positional argument(s) but {len(args)} were given"
    keywords = _keyword_parameters(fn)
    for key in kwargs:
        if key not in keywords:
            accepted = ", ".join(sorted(keywords)) or "none"
            return (f"{name}() got an unexpected keyword argument '{key}' (keywords it accepts: "
                    f"{accepted})")
    for key, required in keywords.items():
        if required and key not in kwargs:
            return f"{name}() needs the keyword argument {key}=..."
    return None


def relocated(exc: Exception, source: Source, line: int, column: int, what: str) -> Exception:
    """The error to raise for ``exc`` from building ``what`` at (line, column): a symgrad
    error keeps its class and gains the position; other errors become a ParseError.

    >>> err = relocated(TypeError("no"), Source("f(x)"), 1, 1, "f()")
    >>> type(err).__name__, err.column
    ('ParseError', 1)
    """
    if isinstance(exc, ParseError):
        return exc
    if type(exc) is SymgradError:   # a builder's generic complaint about the text's arguments
        return source.error(str(exc), line, column)
    if isinstance(exc, SymgradError):
        message = source.locate(str(exc), line, column)
        try:
            return type(exc)(message)
        except Exception:  # a subclass with another constructor
            return SymgradError(message)
    if isinstance(exc, TypeError):
        return source.error(f"bad arguments to {what}: {exc}", line, column)
    return source.error(f"cannot build {what}: {exc}", line, column)


@functools.lru_cache(maxsize=512)
def _signature(fn) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


@functools.lru_cache(maxsize=512)
def _keyword_parameters(op: OpDef) -> dict:
    """Keyword-only parameters of ``op.infer``: name -> whether it is required."""
    try:
        parameters = inspect.signature(op.infer).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default is p.empty for p in parameters if p.kind is p.KEYWORD_ONLY}
