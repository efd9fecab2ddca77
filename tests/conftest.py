"""Test-suite settings: the evaluator's checking mode is on for every test (each instruction's
value must have its node's declared dtype and shape), the C backend's library cache is a
temporary folder, and hypothesis draws the same examples on every run (a CI failure is then
reproducible; the slow tests, ``-m slow``, draw new ones with ``derandomize=False``)."""

import ast

import pytest
from hypothesis import settings

from symgrad.evaluate import program

program.CHECK = True

settings.register_profile("symgrad", derandomize=True)
settings.load_profile("symgrad")


@pytest.fixture(autouse=True, scope="session")
def _c_library_cache(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("SYMGRAD_CACHE", str(tmp_path_factory.mktemp("symgrad-cache")))
    yield
    patch.undo()


@pytest.fixture
def literal_eval_refused(monkeypatch):
    """``ast.literal_eval`` fails the test if called: numpy reads structured dtype text with it,
    that is with ``compile()``, which user text must never reach."""
    def refuse(source):
        raise AssertionError(f"ast.literal_eval reached with {source!r}")
    monkeypatch.setattr(ast, "literal_eval", refuse)
