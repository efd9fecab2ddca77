"""The error classes of symgrad's public API, and the caret formatting of source positions."""

from __future__ import annotations


class SymgradError(Exception):
    """Base class of every error symgrad raises on purpose."""


class ParseError(SymgradError, ValueError):
    """Text that does not parse; ``.line`` and ``.column`` are 1-based.

    The message ends with the offending source line and a caret under the column.
    """

    def __init__(self, message: str, line: int = 1, column: int = 1, source_line: str | None = None):
        self.line, self.column, self.source_line = line, column, source_line
        self.reason = message
        text = f"{message} (line {line}, column {column})"
        if source_line is not None:
            text += f"\n    {source_line}\n    {' ' * (column - 1)}^"
        super().__init__(text)


class ShapeError(SymgradError, ValueError):
    """Shapes or dtypes that do not fit together at build time."""


class GradientError(SymgradError, ValueError):
    """A derivative that cannot be taken as asked."""


class InputError(SymgradError, ValueError):
    """Bad values handed to the evaluator, or a Graph whose inputs miss a used input."""


class GradientCheckError(SymgradError, AssertionError):
    """``check_grads`` found a derivative that disagrees with finite differences."""
