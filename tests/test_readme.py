"""README.md: its Python examples run as doctests, its CLI examples print what they show, and its
op table lists every registered op."""

import re
import shlex
from pathlib import Path

import doctest

import pytest

from symgrad.cli import main
from symgrad.ir import REGISTRY

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text(encoding="utf-8")


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", TEXT, flags=re.S)


def test_python_examples_run():
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    namespace = {}
    examples = blocks("python")
    assert len(examples) >= 6
    for number, block in enumerate(examples):
        test = parser.get_doctest(block, namespace, f"README block {number}", str(README), 0)
        runner.run(test, clear_globs=False)
        namespace = test.globs  # later blocks see the names earlier ones made
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} README example(s) failed (see the output above)"
    assert result.attempted >= 40


def console_examples():
    for block in blocks("console"):
        for chunk in block.split("$ ")[1:]:
            command, *expected = chunk.rstrip("\n").split("\n")
            yield command, "\n".join(expected)


@pytest.mark.parametrize("command, expected", list(console_examples()))
def test_cli_examples_print_what_the_readme_shows(command, expected, capsys):
    argv = shlex.split(command)
    assert argv[0] == "symgrad"
    status = main(argv[1:])
    out, err = capsys.readouterr()
    if expected.startswith("symgrad: error: "):
        assert status == 2 and err.startswith("symgrad: error: ")
    else:
        assert status == 0, err
        assert out.rstrip("\n") == expected


def test_op_table_lists_every_registered_op():
    table = TEXT.split("<!-- op-table:start -->")[1].split("<!-- op-table:end -->")[0]
    listed = set(re.findall(r"^\| `(\w+)` \|", table, flags=re.M))
    registered = {name for name in REGISTRY.ops if name not in ("var", "const")}
    assert registered <= listed, f"missing from the README op table: {registered - listed}"


def test_two_commands_are_the_ci_ones():
    assert "python -m pip install . && symgrad grad" in TEXT
    assert 'python -m pip install -e ".[test]" && python -m pytest' in TEXT


def test_every_public_function_appears_in_the_tour():
    import symgrad as sg

    tour = TEXT.split("## A tour of the Python API")[1].split("## The command line")[0]
    missing = [name for name in sg.__all__ if f"sg.{name}" not in tour and name not in
               ("Node", "add", "sub", "mul", "div", "neg", "pow", "cast", "heaviside",
                "broadcast_to", "getitem", "SymgradError", "ParseError", "ShapeError",
                "GradientError", "InputError")]
    assert not missing, f"public functions without an example in the README tour: {missing}"
