"""Tokenizer of ``sg.parse``: one compiled regex turns text into positioned tokens."""

from __future__ import annotations

import re

from ..errors import ParseError, caret_window, shorten

# A token is a tuple (kind, text, value, line, column), line and column 1-based.
#   kind "num"   value: int (short integer literals) or float
#   kind "name"  identifiers
#   kind "str"   value: the text between quotes (einsum subscripts); no escapes
#   kind ";"     a statement separator: a newline or a semicolon
#   kind "eof"   the end of the text
#   otherwise    the operator or bracket itself: ** + - * / @ ( ) [ ] , = : .
Token = tuple

# Leading blanks are part of each match (fewer matches); every other character is matched by
# some group, so finditer never skips text silently.
_TOKEN = re.compile(r"""
  [ \t\r\f\v]*
  (?: (?P<name>[A-Za-z_]\w*)
    | (?P<num>(?:\d|\.\d)(?:[\w.]|(?<=[eE])[+-])*)   # anything number-like; checked below
    | (?P<str>'[^'\n]*'|"[^"\n]*")
    | (?P<cmp>[=!<>]=)
    | (?P<op>\*\*|[-+*/@()\[\],=:;.])
    | (?P<nl>\n)
    | (?P<skip>\#[^\n]*)
    | (?P<bad>[^ \t\r\f\v]) )
""", re.VERBOSE | re.ASCII)

_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_INTEGER = re.compile(r"\d{1,18}", re.ASCII)

_BAD_HINTS = {
    "^": "'^' is not an operator here; write powers with '**' (x**2)",
    "<": "comparisons are written as functions: less(a, b)",
    ">": "comparisons are written as functions: greater(a, b)",
    "'": "this string is never closed; end it with ' on the same line",
    '"': 'this string is never closed; end it with " on the same line',
    "%": "'%' is not an operator; the operators are + - * / ** @",
    "!": "'!' is not an operator; the operators are + - * / ** @",
}


class Source:
    """The parsed text, split into lines, for error messages that point at a column.

    >>> Source("a +\\nb $").error("bad", 2, 3).column
    3
    """

    def __init__(self, text: str):
        self.lines = text.split("\n")

    def line(self, number: int) -> str:
        """Line ``number`` (1-based) without its line ending; '' past the end."""
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1].rstrip("\r")
        return ""

    def error(self, message: str, line: int, column: int) -> ParseError:
        """A ParseError at ``line``, ``column`` showing the line with a caret."""
        return ParseError(message, line, column, self.line(line))

    def locate(self, message: str, line: int, column: int) -> str:
        """``message`` followed by the position and the line with a caret (as ParseError)."""
        return (f"{shorten(message)} (line {line}, column {column})"
                f"{caret_window(self.line(line), column)}")


def tokenize(text: str, source: Source | None = None) -> list[Token]:
    """The tokens of ``text``, ending with an ``eof`` token; raises ParseError on a bad
    character or a malformed number.

    >>> [tok[0] for tok in tokenize("y = 2*x  # note")]
    ['name', '=', 'num', '*', 'name', 'eof']
    """
    source = source or Source(text)
    tokens: list[Token] = []
    append = tokens.append
    line, line_start = 1, 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "skip":
            continue
        piece = match.group(kind)
        column = match.start(kind) - line_start + 1
        if kind == "op":
            append((piece, piece, None, line, column))
        elif kind == "name":
            append(("name", piece, None, line, column))
        elif kind == "str":
            append(("str", piece, piece[1:-1], line, column))
        elif kind == "num":
            append(("num", piece, _number(piece, source, line, column), line, column))
        elif kind == "nl":
            append((";", piece, None, line, column))
            line, line_start = line + 1, match.end()
        elif kind == "cmp":
            raise source.error(f"'{piece}' is not supported: compare with the functions "
                               f"greater(a, b) and less(a, b)", line, column)
        else:
            hint = _BAD_HINTS.get(piece, "the grammar has numbers, names, + - * / ** @, "
                                         "( ) [ ] , = : . and ;")
            raise source.error(f"unexpected character {piece!r}: {hint}", line, column)
    append(("eof", "", None, line, len(text) - line_start + 1))
    return tokens


def _number(piece: str, source: Source, line: int, column: int) -> int | float:
    if _INTEGER.fullmatch(piece):
        return int(piece)
    if _NUMBER.fullmatch(piece):
        return float(piece)
    raise source.error(f"malformed number {piece!r}: numbers look like 2, 0.5, .5, 1.5e-3 or "
                       f"2E+4; put an operator between a number and a name", line, column)
