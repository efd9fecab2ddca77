"""Fuzzing ``sg.parse`` and the command line in-process: whatever the text, ``parse`` returns a
Graph or raises ParseError / ShapeError, and ``symgrad.cli.main`` exits 0 or 2; never another
exception, a hang (hypothesis' deadline) or code execution (eval, exec and compile are
trapped while the fuzzed call runs, and a canary file must never appear).

Inputs: random characters from the grammar's alphabet, random token sequences (every public
function name, keywords, odd numbers, Python escapes) and mutations of valid programs. The
default run tries a few thousand; ``-m slow`` tens of thousands.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.cli import main
from symgrad.ir import REGISTRY

CANARY = Path(os.environ.get("TMPDIR", "/tmp")) / "symgrad_fuzz_canary"
ESCAPES = [f'__import__("os").system("touch {CANARY}")', f"open('{CANARY}', 'w')",
           "exec('1')", "eval('1')", "lambda: 1", "().__class__.__bases__[0]", "x.__dict__",
           "import os", "globals()", "breakpoint()"]
TOKENS = sorted(REGISTRY.functions) + [
    "x", "y", "z", "W", "v", "a", "pi", "e", "True", "False", "None", "axis=", "keepdims=",
    "dtype=", "at0=", "decimals=", "'float32'", "'int64'", '"bogus"', "0", "1", "2.5", "-1",
    "1e308", "1e-400", "10**20", "2**64", "nan", "inf", "0x1f", "1_000", ".5", "3.", "1j",
    "+", "-", "*", "/", "**", "@", "%", "//", "<", ">", "==", "!=", "<=", ">=", "=", "(", ")",
    "[", "]", ",", ";", ":", "::", ".", ".T", "\n", " ", "#", "\\", "'", '"', "\t", "é", "∑",
] + ESCAPES
SEEDS = ["(x + y) * maximum(y, z)", "sin(x) * exp(x)", "x**2 * y + y**3", "a = x * y; a + sin(a)",
         "stack([x * y, x + y])", "tanh(W @ v)", "sum(W, axis=0, keepdims=True)",
         "where(greater(x, 0), sqrt(x), 0)", "softmax(v)[1] + logsumexp(v)", "W.T @ W",
         "cross_entropy(W, cast(v, dtype='int64'))", "heaviside(x, at0=0.5)", "v[::-1] * 2"]
SHAPES = {"W": (2, 3), "v": (3,)}
ALPHABET = "xyzWva0123456789.+-*/()[],;:=<>@%_ eE\n#'\"\\" + "sinexpqrtmaxwhe"

texts = st.one_of(
    st.text(alphabet=ALPHABET, max_size=40),
    st.lists(st.sampled_from(TOKENS), max_size=14).map("".join),
    st.lists(st.sampled_from(TOKENS), max_size=14).map(" ".join),
    st.text(max_size=25),
    st.tuples(st.sampled_from(SEEDS), st.integers(0, 60), st.integers(0, 4),
              st.sampled_from(TOKENS)).map(
        lambda t: t[0][:t[1]] + t[3] + t[0][t[1] + t[2]:]),
)


class CodeExecuted(BaseException):
    """Raised by the trapped eval/exec/compile: a BaseException, so no handler swallows it."""


@contextlib.contextmanager
def trapped():
    """eval, exec and compile of *text* raise while the fuzzed call runs (code objects pass:
    that is how Python imports modules)."""
    saved = builtins.eval, builtins.exec, builtins.compile

    def trap(original):
        def call(source, *args, **kwargs):
            if isinstance(source, (str, bytes)):
                raise CodeExecuted(f"text reached {original.__name__}: {source!r:.80}")
            return original(source, *args, **kwargs)
        return call
    builtins.eval, builtins.exec, builtins.compile = map(trap, saved)
    try:
        yield
    finally:
        builtins.eval, builtins.exec, builtins.compile = saved


TRIED = {"parse": 0, "cli": 0}


def fuzz_parse(text: str) -> None:
    TRIED["parse"] += 1
    with trapped(), np.errstate(all="ignore"):
        try:
            graph = sg.parse(text, shapes=SHAPES)
        except (sg.ParseError, sg.ShapeError):
            return
    assert isinstance(graph, sg.Graph)
    assert not CANARY.exists()


COMMANDS = (["eval", "--at", "x=0.5", "y=2", "z=-1", "a=1", "v=1,2,3"],
            ["grad", "--no-simplify"], ["grad", "--format", "json", "--at", "x=1", "y=2", "z=3"],
            ["graph"], ["hessian", "--no-simplify"])


def fuzz_cli(text: str, command: int) -> None:
    TRIED["cli"] += 1
    name, *rest = COMMANDS[command]
    argv = [name, *rest, "--shape", "W=2,3", "--shape", "v=3", "--", text]
    out, err = io.StringIO(), io.StringIO()
    with trapped(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:         # argparse: exit 2 on arguments it rejects
            status = exc.code
    assert status in (0, 2), f"exit {status} for {argv!r}: {err.getvalue()}"
    assert not CANARY.exists()


@pytest.fixture(scope="module", autouse=True)
def modules_loaded():
    """Run every command once untrapped: module imports (mpmath's exec'd methods…) happen now."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for name, *rest in COMMANDS:
            main([name, *rest, "--", "x * y + z"])


FUZZ = dict(deadline=5000, suppress_health_check=list(HealthCheck), derandomize=True)


@settings(max_examples=2000, **FUZZ)
@given(texts)
def test_parse_returns_a_graph_or_a_parse_or_shape_error(text):
    fuzz_parse(text)


@settings(max_examples=300, **FUZZ)
@given(texts, st.integers(0, len(COMMANDS) - 1))
def test_cli_exits_0_or_2(text, command):
    fuzz_cli(text, command)


@pytest.mark.slow
@settings(max_examples=10_000, **{**FUZZ, "derandomize": False})
@given(texts)
def test_parse_fuzzed_at_length(text):
    fuzz_parse(text)


@pytest.mark.slow
@settings(max_examples=2_000, **{**FUZZ, "derandomize": False})
@given(texts, st.integers(0, len(COMMANDS) - 1))
def test_cli_fuzzed_at_length(text, command):
    fuzz_cli(text, command)


@pytest.mark.parametrize("text", [
    "(" * 100_000 + "x" + ")" * 100_000,
    "-" * 100_000 + "x",
    "x" + " + x" * 100_000,
    "(" * 100_000,
    "sin(" * 50_000 + "x" + ")" * 50_000,
], ids=["parens", "minus", "sum", "unclosed", "calls"])
def test_pathological_nesting_neither_recurses_nor_hangs(text):
    fuzz_parse(text)


def test_escapes_are_rejected_and_never_run():
    for text in ESCAPES:
        with pytest.raises((sg.ParseError, sg.ShapeError)):
            sg.parse(text)
    assert not CANARY.exists()


def test_the_trap_catches_code_execution():
    with pytest.raises(CodeExecuted), trapped():
        eval("1")
    code = compile("1 + 1", "<test>", "eval")
    with trapped():
        assert eval(code) == 2              # a code object (an import) passes
