"""Docs in the interpreter: every public function has a real signature and its own docstring
with an example, and the examples generated for ops run."""

import doctest
import inspect

import pytest

import symgrad as sg
from symgrad.ir import OpDef

NAMESPACES = {"sg": sg, **({"sg.linalg": sg.linalg} if hasattr(sg, "linalg") else {})}
FUNCTIONS = sorted(n for n in sg.__all__ if callable(getattr(sg, n))
                   and not inspect.isclass(getattr(sg, n)))
PUBLIC = [(space, n) for space, module in NAMESPACES.items()
          for n in getattr(module, "__all__", ())
          if callable(getattr(module, n)) and not inspect.isclass(getattr(module, n))]


@pytest.mark.parametrize("space, name", PUBLIC, ids=[f"{s}.{n}" for s, n in PUBLIC])
def test_public_function_has_signature_and_example(space, name):
    fn = getattr(NAMESPACES[space], name)
    signature = inspect.signature(fn)
    assert "**params" not in str(signature)
    doc = inspect.getdoc(fn) or ""
    assert ">>>" in doc, f"{space}.{name} has no example in its docstring"
    assert doc != inspect.getdoc(OpDef)
    assert "Help on OpDef" not in doc


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if isinstance(getattr(sg, n), OpDef)])
def test_generated_op_examples_run(name):
    fn = getattr(sg, name)
    test = doctest.DocTestParser().get_doctest(inspect.getdoc(fn), {}, name, None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0 and runner.tries > 0


def test_help_shows_the_op_signature_and_doc():
    text = __import__("pydoc").render_doc(sg.sin, renderer=__import__("pydoc").plaintext)
    assert "sin(x, /)" in text and "numpy.sin" in text and ">>> f = sg.sin(x)" in text
    assert inspect.signature(sg.maximum).parameters.keys() == {"x1", "x2"}
    assert "dtype" in inspect.signature(sg.cast).parameters
