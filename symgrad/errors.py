"""The error classes of symgrad's public API, and the caret formatting of source positions."""

from __future__ import annotations


WINDOW = 80  # characters of a long source line shown around the caret


def shorten(text: str, limit: int = 4000) -> str:
    """``text`` cut to ``limit`` characters (an error message stays readable for any input)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def caret_window(source_line: str, column: int) -> str:
    """Two indented lines: the source line, or a window of it around ``column`` when it is
    long (cut ends marked with "…"), and a caret under the column.

    >>> print(caret_window("x +", 4))
    <BLANKLINE>
        x +
           ^
    >>> shown = caret_window("x" * 10**6 + "+", 10**6 + 1)
    >>> len(shown) < 200, shown.splitlines()[-1].index("^") == shown.splitlines()[-2].index("+")
    (True, True)
    """
    if len(source_line) <= WINDOW + 20:
        return f"\n    {source_line}\n    {' ' * (column - 1)}^"
    start = max(0, min(column - 1 - WINDOW // 2, len(source_line) - WINDOW))
    end = start + WINDOW
    head = "…" if start > 0 else ""
    tail = "…" if end < len(source_line) else ""
    shown = head + source_line[start:end] + tail
    return f"\n    {shown}\n    {' ' * (column - 1 - start + len(head))}^"


class SymgradError(Exception):
    """Base class of every error symgrad raises on purpose."""


class ParseError(SymgradError, ValueError):
    """Text that does not parse; ``.line`` and ``.column`` are 1-based.

    The message ends with the offending source line and a caret under the column.
    """

    def __init__(self, message: str, line: int = 1, column: int = 1, source_line: str | None = None):
        self.line, self.column, self.source_line = line, column, source_line
        self.reason = message
        text = f"{shorten(message)} (line {line}, column {column})"
        if source_line is not None:
            text += caret_window(source_line, column)
        super().__init__(text)


class ShapeError(SymgradError, ValueError):
    """Shapes or dtypes that do not fit together at build time."""


class GradientError(SymgradError, ValueError):
    """A derivative that cannot be taken as asked."""


class BackendError(SymgradError, RuntimeError):
    """A backend cannot run here (no C compiler, jax or dask not installed); says the fix."""


class InputError(SymgradError, ValueError):
    """Bad values handed to the evaluator, or a Graph whose inputs miss a used input."""


class BackendError(SymgradError, RuntimeError):
    """A compiler backend that cannot run here (no C compiler, an op it cannot express); the
    message says how to fix it."""
