"""Text → Graph: ``sg.parse``, operator-precedence parsing over explicit stacks (no recursion)."""

from __future__ import annotations

import difflib
import math
from typing import Mapping

from ..errors import ParseError
from ..ir import REGISTRY, Graph, Node
from ..ops import const, var
from ..ops.linalg import NAMESPACE as LINALG
from .calls import BUILD_ERRORS, argument_problem, relocated
from .lexer import Source, Token, tokenize

# Python's precedences: ** binds tighter than unary minus (-x**2 == -(x**2)), which binds
# tighter than * / @, which bind tighter than + -. Only ** is right-associative.
_PRECEDENCE = {"+": 10, "-": 10, "*": 20, "/": 20, "@": 20, "neg": 30, "pos": 30, "**": 40}
_BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul", "**": "pow"}
_CONSTANTS = {"pi": math.pi, "e": math.e}
_KEYWORDS = {"True": True, "False": False, "None": None}
_INTERNAL = frozenset({"var", "const", "sum_to"})  # registry functions not callable from text
_CLOSER = {"(": ")", "[": "]"}
_PUNCTUATION = (")", "]", ",", ":")
_END = (";", "eof")
_EXACT = 2 ** 53  # integer literal arithmetic stays exact (ints) below this magnitude


def parse(text: str, shapes: Mapping | None = None, dtypes: Mapping | None = None) -> Graph:
    """Parse Python-like text into a Graph whose output is the last statement's value.

    Statements ``name = expr`` are separated by newlines or ``;``; unassigned identifiers
    that are not functions, ``pi`` or ``e`` are inputs, with ``shapes`` / ``dtypes`` by name
    (default scalar float64), listed in ``G.inputs`` in order of first appearance. The text is
    never evaluated as code.

    >>> import symgrad as sg
    >>> G = sg.parse("y = 2 * x  # a comment\\ny ** 2 - b / 2")
    >>> [v.name for v in G.inputs]
    ['x', 'b']
    >>> sg.evaluate(G, {"x": 3.0, "b": 4.0})[0].item()
    34.0
    """
    if not isinstance(text, str):
        raise ParseError(f"parse expects the text as a str, got {type(text).__name__}")
    return _Parser(text, dict(shapes or {}), dict(dtypes or {})).run()


class _Value:
    """An operand: a Node, a literal number (int or float), a flag (True, False, None) or a
    sequence (a tuple or list of such raw values), with the token it came from."""

    __slots__ = ("kind", "value", "tok")

    def __init__(self, kind: str, value, tok: Token):
        self.kind, self.value, self.tok = kind, value, tok


class _Frame:
    """An open bracket on the operator stack: a call, a parenthesised group, a list, or an
    index; ``base`` is the operand-stack height when it opened."""

    __slots__ = ("kind", "tok", "base", "items", "kwargs", "keyword", "comma", "fn", "target",
                 "parts")

    def __init__(self, kind: str, tok: Token, base: int, fn=None, target=None):
        self.kind, self.tok, self.base, self.fn, self.target = kind, tok, base, fn, target
        self.items: list = []
        self.kwargs: dict = {}
        self.keyword: Token | None = None   # a pending ``name=`` in a call
        self.comma = False                  # a comma was seen: a group is a tuple
        self.parts: list = []               # slice parts before the current one


class _Parser:
    """One parse of one text: the tokens, the names assigned so far and the inputs made."""

    def __init__(self, text: str, shapes: dict, dtypes: dict):
        self.source = Source(text)
        self.tokens = tokenize(text, self.source)
        self.shapes, self.dtypes = shapes, dtypes
        self.functions = {name: fn for name, fn in REGISTRY.functions.items()
                          if name not in _INTERNAL} | REGISTRY.user_functions
        self.bindings: dict[str, _Value] = {}
        self.inputs: dict[str, Node] = {}   # in order of first appearance

    def error(self, message: str, tok: Token) -> ParseError:
        return self.source.error(message, tok[3], tok[4])

    # -- statements -----------------------------------------------------------------------
    def run(self) -> Graph:
        tokens, i, result = self.tokens, 0, None
        while tokens[i][0] != "eof":
            if tokens[i][0] == ";":
                i += 1
                continue
            first = tokens[i]
            if first[0] == "name" and tokens[i + 1][0] == "=":
                self._check_target(first)
                if tokens[i + 2][0] in _END:
                    raise self.error(f"nothing after '=': the assignment to '{first[1]}' needs "
                                     f"a right-hand side, e.g. {first[1]} = x + 1", tokens[i + 1])
                result, i = self._expression(i + 2)
                self.bindings[first[1]] = result
            else:
                result, i = self._expression(i)
        if result is None:
            raise self.error("nothing to parse: the text has no expression; write e.g. "
                             "'x**2 + 1'", (None, None, None, 1, 1))
        return self._graph(result)

    def _check_target(self, tok: Token) -> None:
        name = tok[1]
        if name in _CONSTANTS or name in _KEYWORDS:
            raise self.error(f"cannot assign to '{name}': it is a reserved constant; pick "
                             f"another name", tok)
        if name in self.functions:
            raise self.error(f"cannot assign to '{name}': it is a function name; pick another "
                             f"name", tok)

    def _graph(self, result: _Value) -> Graph:
        if result.kind == "num":
            output = const(float(result.value))
        elif result.kind == "node":
            output = result.value
        else:
            raise self.error("the last statement must be an expression with a value, not "
                             f"{_describe(result)}", result.tok)
        graph = Graph(output)
        used = set(graph.inputs)
        in_text_order = tuple(v for v in self.inputs.values() if v in used)
        if in_text_order == graph.inputs:
            return graph
        return Graph(output, inputs=in_text_order)

    # -- expressions ----------------------------------------------------------------------
    def _expression(self, i: int) -> tuple[_Value, int]:
        """Parse from token ``i`` up to the end of the statement; returns (value, index of the
        statement's end token). Operators and open brackets wait on ``ops``, values on
        ``operands``; every construct is reduced as soon as its end is seen."""
        tokens = self.tokens
        operands: list[_Value] = []
        ops: list = []
        expect_operand = True
        while True:
            tok = tokens[i]
            kind = tok[0]
            if expect_operand:
                if kind == "num" or kind == "str":
                    operands.append(_Value(kind, tok[2], tok))
                    expect_operand = False
                elif kind == "name":
                    following = tokens[i + 1][0]
                    if following == "(":
                        ops.append(_Frame("call", tok, len(operands), fn=self._function(tok)))
                        i += 2
                        continue
                    if following == "." and tok[1] == "linalg" and tokens[i + 3][0] == "(":
                        function = self._namespaced(tokens[i + 2])         # linalg.inv(...)
                        ops.append(_Frame("call", tokens[i + 2], len(operands), fn=function))
                        i += 4
                        continue
                    if following == "=" and self._at_argument_start(ops, operands):
                        self._keyword(ops[-1], tok)
                        i += 2
                        continue
                    operands.append(self._name(tok))
                    expect_operand = False
                elif kind == "-" or kind == "+":
                    ops.append((30, "neg" if kind == "-" else "pos", tok))
                elif kind == "(" or kind == "[":
                    ops.append(_Frame("group" if kind == "(" else "list", tok, len(operands)))
                elif kind in _PUNCTUATION and self._at_argument_start(ops, operands):
                    expect_operand = self._punctuation(tok, ops, operands, empty=True)
                else:
                    raise self._missing_operand(tok, ops)
            elif kind in _BINARY:
                precedence = _PRECEDENCE[kind]
                while ops and not isinstance(ops[-1], _Frame) and (
                        ops[-1][0] > precedence or (ops[-1][0] == precedence and kind != "**")):
                    self._apply(ops.pop(), operands)
                ops.append((precedence, kind, tok))
                expect_operand = True
            elif kind == "[":
                target = operands.pop()
                ops.append(_Frame("index", tok, len(operands), target=target))
                expect_operand = True
            elif kind == ".":
                attribute = tokens[i + 1]
                if attribute[0] != "name" or attribute[1] != "T":
                    raise self.error("after '.' only the attribute T (transpose) is supported, "
                                     "as in x.T", attribute if attribute[0] == "name" else tok)
                operands.append(self._invoke("transpose", (self._node_or_number(
                    operands.pop(), tok),), {}, tok))
                i += 2
                continue
            elif kind in _PUNCTUATION or kind in _END:
                while ops and not isinstance(ops[-1], _Frame):
                    self._apply(ops.pop(), operands)
                if kind in _END:
                    if ops:
                        raise self._unclosed(ops[-1])
                    return operands.pop(), i
                if not ops:
                    raise self._stray(tok)
                expect_operand = self._punctuation(tok, ops, operands, empty=False)
            else:
                raise self._unexpected(tok)
            i += 1

    @staticmethod
    def _at_argument_start(ops: list, operands: list) -> bool:
        """True right after an opening bracket, ',' or ':' (nothing parsed in the slot yet)."""
        return bool(ops) and isinstance(ops[-1], _Frame) and len(operands) == ops[-1].base

    def _keyword(self, frame: _Frame, tok: Token) -> None:
        if frame.kind != "call":
            raise self.error(f"'{tok[1]} =' is only allowed as a keyword argument of a call or "
                             f"at the start of a statement", tok)
        if frame.keyword is not None:
            raise self.error(f"keyword argument '{frame.keyword[1]}' has no value", tok)
        if tok[1] in frame.kwargs:
            raise self.error(f"keyword argument '{tok[1]}' is given twice in the call of "
                             f"{frame.tok[1]}()", tok)
        frame.keyword = tok

    def _punctuation(self, tok: Token, ops: list, operands: list, empty: bool) -> bool:
        """Handle ``, : ) ]`` inside the innermost open bracket; ``empty`` when nothing was
        parsed since the last separator. Returns whether an operand is expected next."""
        kind, frame = tok[0], ops[-1]
        if kind == ":":
            if frame.kind != "index":
                raise self.error("':' is only allowed inside x[...] for slices, as in x[1:3]",
                                 tok)
            frame.parts.append(None if empty else self._index_item(operands.pop(), False))
            if len(frame.parts) > 2:
                raise self.error("a slice has at most two ':' (start:stop:step)", tok)
            return True
        if kind == ",":
            if empty and not frame.parts:
                raise self.error("expected an expression before ','", tok)
            self._end_item(frame, operands, empty)
            frame.comma = True
            return True
        opener = frame.tok[1] if frame.kind != "call" else "("
        if _CLOSER[opener] != kind:
            raise self.error(f"'{kind}' does not match the '{opener}' opened at line "
                             f"{frame.tok[3]}, column {frame.tok[4]}", tok)
        if not empty or frame.parts:
            self._end_item(frame, operands, empty)
        elif frame.keyword is not None:
            raise self.error(f"keyword argument '{frame.keyword[1]}' has no value", tok)
        elif frame.kind == "index" and not frame.items:
            raise self.error("empty index: write x[0], x[1:], x[:, 0] ...", tok)
        ops.pop()
        operands.append(self._close(frame))
        return False

    def _end_item(self, frame: _Frame, operands: list, empty: bool) -> None:
        if frame.kind == "index":
            part = None if empty else self._index_item(operands.pop(), not frame.parts)
            if frame.parts:
                frame.parts.append(part)
                part, frame.parts = slice(*frame.parts), []
            elif part is None:
                raise self.error("empty index: write x[0], x[1:], x[:, 0] ...", frame.tok)
            frame.items.append(part)
            return
        value = operands.pop()
        if frame.keyword is not None:
            frame.kwargs[frame.keyword[1]] = value.value
            frame.keyword = None
        elif frame.kwargs:
            raise self.error("positional argument after a keyword argument; put positional "
                             "arguments first", value.tok)
        else:
            frame.items.append(value if frame.kind == "group" else value.value)

    def _close(self, frame: _Frame) -> _Value:
        if frame.kind == "call":
            return self._invoke(frame.tok[1], tuple(frame.items), frame.kwargs, frame.tok,
                                fn=frame.fn)
        if frame.kind == "group":
            if len(frame.items) == 1 and not frame.comma:
                return frame.items[0]
            return _Value("seq", tuple(v.value for v in frame.items), frame.tok)
        if frame.kind == "list":
            return _Value("seq", frame.items, frame.tok)
        index = frame.items[0] if len(frame.items) == 1 and not frame.comma else tuple(
            frame.items)
        if frame.target.kind == "seq":               # split(...)[k], slogdet(...)[1]
            return self._pick(frame.target, index, frame.tok)
        target = self._node_or_number(frame.target, frame.tok)
        return self._invoke("getitem", (target, index), {}, frame.tok)

    def _apply(self, op: tuple, operands: list) -> None:
        """Reduce one waiting operator with its operands from the top of the stack."""
        _, symbol, tok = op
        if symbol == "neg" or symbol == "pos":
            operand = operands.pop()
            if operand.kind == "num":
                value = -operand.value if symbol == "neg" else operand.value
                operands.append(_Value("num", value, tok))
            elif symbol == "pos":
                operands.append(_Value("node", self._node_or_number(operand, tok), tok))
            else:
                operands.append(self._invoke("neg", (self._node_or_number(operand, tok),), {},
                                             tok))
            return
        right, left = operands.pop(), operands.pop()
        if (symbol in "+-*" and left.kind == right.kind == "num"
                and type(left.value) is int and type(right.value) is int):
            exact = (left.value + right.value if symbol == "+" else
                     left.value - right.value if symbol == "-" else left.value * right.value)
            if abs(exact) < _EXACT:   # keeps shape/axis arithmetic like (2*3,) integral
                operands.append(_Value("num", exact, tok))
                return
        args = (left.value if left.kind == "node" else self._node_or_number(left, tok, True),
                right.value if right.kind == "node" else self._node_or_number(right, tok, True))
        operands.append(self._invoke(_BINARY[symbol], args, {}, tok))

    # -- names and calls ------------------------------------------------------------------
    def _name(self, tok: Token) -> _Value:
        name = tok[1]
        bound = self.bindings.get(name)
        if bound is not None:
            return _Value(bound.kind, bound.value, tok)
        if name in _CONSTANTS:
            return _Value("num", _CONSTANTS[name], tok)
        if name in _KEYWORDS:
            return _Value("flag", _KEYWORDS[name], tok)
        if name in self.functions:
            raise self.error(f"'{name}' is a function: call it as {name}(...)", tok)
        node = self.inputs.get(name)
        if node is None:
            shape, dtype = self.shapes.get(name, ()), self.dtypes.get(name, "float64")
            try:
                node = var(name, shape=shape, dtype=dtype)
            except BUILD_ERRORS as exc:
                raise relocated(exc, self.source, tok[3], tok[4], f"input '{name}'") from None
            self.inputs[name] = node
        return _Value("node", node, tok)

    def _function(self, tok: Token):
        name = tok[1]
        fn = self.functions.get(name)
        if fn is not None:
            return fn
        if name in self.bindings:
            problem = f"'{name}' is a name assigned earlier, not a function"
        elif name in _CONSTANTS or name in _KEYWORDS:
            problem = f"'{name}' is a constant, not a function"
        elif name in self.inputs or name in self.shapes or name in self.dtypes:
            problem = f"'{name}' is an input, not a function"
        else:
            close = difflib.get_close_matches(name, self.functions, n=1)
            hint = (f"did you mean '{close[0]}'?" if close else
                    f"if '{name}' is an input, write an operator before '(' as in {name} * "
                    f"(...); known functions: " + ", ".join(sorted(self.functions)))
            raise self.error(f"unknown function '{name}'; {hint}", tok)
        raise self.error(f"{problem}; to multiply write {name} * (...)", tok)

    def _namespaced(self, tok: Token):
        """The function ``linalg.<tok>`` names (the sg.linalg namespace)."""
        if tok[0] != "name" or tok[1] not in LINALG:
            raise self.error(f"linalg.{tok[1]} is not a function; linalg has "
                             f"{', '.join(LINALG)}", tok)
        return self.functions[tok[1]]

    def _invoke(self, name: str, args: tuple, kwargs: dict, tok: Token, fn=None) -> _Value:
        """Call the registry function ``name`` (``fn``: a call written in the text, whose
        arguments are checked first); errors get the position of ``tok``. A scalar float64
        constant result becomes a literal again, so it adopts its partner's dtype."""
        if fn is not None:
            problem = argument_problem(name, fn, args, kwargs)
            if problem is not None:
                raise self.error(problem, tok)
        else:
            fn = self.functions.get(name)
            if fn is None:
                raise self.error(f"'{tok[1]}' needs the function '{name}', which is not "
                                 f"registered", tok)
        try:
            result = fn(*args, **kwargs)
        except BUILD_ERRORS as exc:
            raise relocated(exc, self.source, tok[3], tok[4], f"{name}()") from None
        if isinstance(result, (tuple, list)) and result and all(
                isinstance(r, Node) for r in result):   # split, slogdet: index it with [k]
            return _Value("seq", result, tok)
        if not isinstance(result, Node):
            raise self.error(f"{name}() did not return a graph node (got "
                             f"{type(result).__name__})", tok)
        if result.is_const and result.shape == () and result.dtype == "float64":
            return _Value("num", float(result.value), tok)
        return _Value("node", result, tok)

    # -- operand checks and messages ------------------------------------------------------
    def _node_or_number(self, value: _Value, tok: Token, float_: bool = False):
        if value.kind == "node":
            return value.value
        if value.kind == "num":
            return float(value.value) if float_ else value.value
        raise self.error(f"'{tok[1]}' cannot be applied to {_describe(value)}; tuples, lists, "
                         f"strings, True, False and None are only function arguments", value.tok)

    def _index_item(self, value: _Value, gather: bool):
        """An index item: an integer constant, or (``gather``, outside a slice) an int64
        expression or a list of integers, which gathers."""
        if value.kind == "num" and type(value.value) is int:
            return value.value
        if gather and ((value.kind == "node" and value.value.dtype == "int64") or (
                value.kind == "seq" and isinstance(value.value, list)
                and all(type(v) is int for v in value.value))):
            return value.value
        hint = (f"; this expression has dtype {value.value.dtype}: declare index inputs with "
                f"dtypes={{name: 'int64'}}" if value.kind == "node" else "")
        raise self.error(f"indices and slice bounds must be integer constants such as 0, -1 or "
                         f"2, or an int64 expression or list of ints to gather, not "
                         f"{_describe(value)}{hint}", value.tok)

    def _pick(self, sequence: _Value, index, tok: Token) -> _Value:
        """Item ``index`` of a sequence of nodes returned by a function."""
        items = sequence.value
        if type(index) is not int or not -len(items) <= index < len(items):
            raise self.error(f"this function returned {len(items)} values: pick one with an "
                             f"integer index from {-len(items)} to {len(items) - 1}", tok)
        item = items[index]
        if not isinstance(item, Node):
            raise self.error(f"item {index} of {_describe(sequence)} is not an expression", tok)
        return _Value("node", item, tok)

    def _missing_operand(self, tok: Token, ops: list) -> ParseError:
        top = ops[-1] if ops else None
        if tok[0] in _END and top is not None:
            if isinstance(top, _Frame):
                return self._unclosed(top)
            symbol = "-" if top[1] == "neg" else "+" if top[1] == "pos" else top[1]
            return self.error(f"'{symbol}' has no right operand: the expression ends after it",
                              top[2])
        if top is None and tok[0] in (")", "]"):
            return self._stray(tok)
        if tok[0] == "=":
            return self.error("'=' must follow a name at the start of a statement "
                              "(name = expr)", tok)
        return self.error(f"expected an operand (a number, name, call or '('), found "
                          f"{_show(tok)}", tok)

    def _unexpected(self, tok: Token) -> ParseError:
        if tok[0] in ("name", "num", "("):
            return self.error(f"missing operator before {_show(tok)}: two expressions in a row"
                              + ("; only named functions can be called" if tok[0] == "(" else
                                 ""), tok)
        if tok[0] == "=":
            return self.error("cannot assign to an expression: the left of '=' must be a "
                              "single name at the start of a statement", tok)
        return self.error(f"unexpected {_show(tok)}", tok)

    def _unclosed(self, frame: _Frame) -> ParseError:
        opener = "(" if frame.kind == "call" else frame.tok[1]
        tok = frame.tok
        if frame.kind == "call":   # point at the bracket, just after the function name
            tok = (tok[0], tok[1], tok[2], tok[3], tok[4] + len(tok[1]))
        return self.error(f"'{opener}' is never closed; add '{_CLOSER[opener]}'", tok)

    def _stray(self, tok: Token) -> ParseError:
        if tok[0] in (")", "]"):
            return self.error(f"unmatched '{tok[0]}': no bracket is open", tok)
        if tok[0] == ",":
            return self.error("',' outside brackets: separate statements with ';' or a "
                              "newline", tok)
        return self.error("':' is only allowed inside x[...] for slices, as in x[1:3]", tok)


def _describe(value: _Value) -> str:
    if value.kind == "seq":
        return "a tuple" if isinstance(value.value, tuple) else "a list"
    if value.kind == "flag":
        return repr(value.value)
    if value.kind == "num":
        return f"the number {value.value!r}"
    if value.kind == "str":
        return f"the string {value.value!r}"
    return "an expression"


def _show(tok: Token) -> str:
    if tok[0] == "eof":
        return "the end of the text"
    if tok[0] == ";":
        return "the end of the line" if tok[1] == "\n" else "';'"
    return repr(tok[1])
