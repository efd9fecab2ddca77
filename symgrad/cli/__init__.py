"""The ``symgrad`` command line (also ``python -m symgrad``): argument parsing and exit codes."""

from __future__ import annotations

import argparse
import os
import sys

from .. import SymgradError

EXAMPLES = """\
examples:
  symgrad grad "(x + y) * maximum(y, z)" --wrt x y z --at x=1 y=2 z=0
  symgrad grad "sin(x) * exp(x)" --wrt x --order 3
  symgrad grad "x**2 * y" --format latex
  symgrad grad "(x + y) * maximum(y, z)" --wrt x y z --explain --at x=1 y=2 z=0
  symgrad hessian "x**2 * y + y**3" --wrt x y --at x=1 y=2
  symgrad jacobian "stack([x * y, x + y])" --wrt x y
  symgrad graph "tanh(W @ v)" --shape W=2,3 --shape v=3 --wrt W
  symgrad graph "x * sin(x)" --wrt x --png b.png
  echo "a = x * y; a + sin(a)" | symgrad grad - --wrt x
  symgrad eval "x**2 + 1" --at x=3
  symgrad eval "-x**2" --at x=3          (or: symgrad eval --at x=3 -- "-x**2")
  symgrad grad "sum(tanh(W @ v))" --shape W=2,3 --shape v=3 --wrt v --cse
  symgrad grad "x * sin(x)" --wrt x --save B.json && symgrad eval B.json --at x=1

In expressions, e and pi are the constants, not input names.
Exit status: 0 on success, 2 for a problem with the input (one-line message), 1 for an
internal error.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``symgrad`` command.

    >>> build_parser().parse_args(["grad", "x*y", "--wrt", "x"]).wrt
    ['x']
    """
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="symgrad", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Symbol-to-symbol differentiation: parse an expression into a graph G, "
                    "append its derivative graph B, show the derivatives as formulas (sympy), "
                    "evaluate them, draw the graphs.",
        epilog=EXAMPLES)
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, help_text):
        sub = commands.add_parser(name, help=help_text, description=help_text,
                                  formatter_class=argparse.RawDescriptionHelpFormatter,
                                  epilog=EXAMPLES)
        sub.add_argument("expr", nargs="?", metavar="EXPR",
                         help="the expression ('-' reads it from standard input), or a graph "
                              "file saved with --save / sg.save (FILE.json)")
        sub.add_argument("-f", "--file", help="read the expression from FILE")
        sub.add_argument("--shape", action="append", metavar="NAME=D1,D2",
                         help="shape of an input, e.g. W=3,4 (repeatable; default scalar)")
        sub.add_argument("--dtype", action="append", metavar="NAME=DTYPE",
                         help="dtype of an input: float64 (default), float32 or int64")
        return sub

    for name, help_text in (("grad", "derivatives of any order, as formulas and values"),
                            ("hessian", "the Hessian matrix of a scalar expression"),
                            ("jacobian", "the Jacobian matrix of an expression")):
        sub = command(name, help_text)
        sub.add_argument("--wrt", nargs="+", metavar="NAME",
                         help="inputs to differentiate with respect to (default: all float "
                              "inputs)")
        sub.add_argument("--at", nargs="+", metavar="NAME=VALUE",
                         help="evaluate at these values, e.g. x=1 v=1,2,3 W=[[1,2],[3,4]]")
        sub.add_argument("--format", choices=("text", "sympy", "latex", "json"),
                         default="text", help="how to print the results (default text)")
        sub.add_argument("--no-simplify", action="store_true",
                         help="show the formulas as exported, without sympy.simplify")
        sub.add_argument("--simplify-timeout", type=float, default=5.0, metavar="SECONDS",
                         help="stop simplifying the shown formulas after SECONDS of CPU "
                              "time (at most 3 x SECONDS + 2 of wall-clock time) and show "
                              "them as exported (default 5; 0 = no simplification)")
        sub.add_argument("--cse", action="store_true",
                         help="show the formulas in cse form: shared subexpressions x0, x1, "
                              "... first, then the derivatives in terms of them")
        sub.add_argument("--values-only", action="store_true",
                         help="no formulas: only the values at --at")
        sub.add_argument("--save", metavar="FILE.json",
                         help="also save the derivative graph to FILE.json (sg.load reads it)")
        if name == "grad":
            sub.add_argument("--order", type=int, default=1, metavar="N",
                             help="order of the derivatives (default 1), by nesting gradients")
            sub.add_argument("--explain", action="store_true",
                             help="narrate Algorithm 6 (build_grad) step by step instead")

    sub = command("graph", "print the graph G (and B with --wrt), or write a picture")
    sub.add_argument("--wrt", nargs="+", metavar="NAME", help="also build B = gradients(G, wrt)")
    sub.add_argument("--dot", metavar="FILE", help="write DOT text to FILE ('-': print it)")
    sub.add_argument("--png", metavar="FILE", help="write a PNG picture (Graphviz or matplotlib)")
    sub.add_argument("--svg", metavar="FILE", help="write an SVG picture (Graphviz or matplotlib)")
    sub.add_argument("--save", metavar="FILE.json", help="save the graph shown to FILE.json")

    sub = command("eval", "evaluate the expression at given input values")
    sub.add_argument("--at", nargs="+", metavar="NAME=VALUE", default=[],
                     help="the input values, e.g. x=1 v=1,2,3")
    return parser


def expressions_as_positionals(parser: argparse.ArgumentParser, argv: list) -> list:
    """``argv`` with an expression that starts with '-' (``-x**2``) marked as a positional
    argument (argparse would take it for an unknown option): a leading space, which the
    parser ignores. Tokens after ``--`` are left alone.

    >>> expressions_as_positionals(build_parser(), ["eval", "-x**2", "--at", "x=3", "-h"])
    ['eval', ' -x**2', '--at', 'x=3', '-h']
    """
    commands = parser._subparsers._group_actions[0].choices
    for i, token in enumerate(argv):
        if token in commands:
            options = commands[token]._option_string_actions
            for j in range(i + 1, len(argv)):
                word = argv[j]
                if word == "--":
                    break
                name = word.split("=", 1)[0]
                if (word.startswith("-") and word != "-" and name not in options
                        and not any(o.startswith(name) for o in options if o.startswith("--"))):
                    argv[j] = " " + word
            break
    return argv


def main(argv: list | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    >>> main(["eval", "2 * x + 1", "--at", "x=3"])
    7
    0
    """
    parser = build_parser()
    args = parser.parse_args(expressions_as_positionals(parser, list(sys.argv[1:] if argv is None
                                                                      else argv)))
    try:
        import sympy

        from .commands import COMMANDS
        text = COMMANDS[args.command](args, sympy)
    except SymgradError as exc:
        print(f"symgrad: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f" {exc.filename!r}" if getattr(exc, "filename", None) else ""
        print(f"symgrad: error: cannot access{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except RecursionError:
        print("symgrad: error: the input is nested too deeply to handle here; use --values-only "
              "or the Python API", file=sys.stderr)
        return 2
    except MemoryError:
        print("symgrad: error: out of memory; use smaller --shape values", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symgrad: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the promise: one line, never a traceback
        print(f"symgrad: internal error: {type(exc).__name__}: {exc} (please report this "
              f"with the command you ran)", file=sys.stderr)
        return 1
    try:
        print(text, flush=True)
    except BrokenPipeError:  # `symgrad ... | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
