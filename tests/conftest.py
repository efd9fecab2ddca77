"""Test-suite settings: the evaluator's checking mode is on for every test (each instruction's
value must have its node's declared dtype and shape), and the C backend's library cache is a
temporary folder."""

import pytest

from symgrad.evaluate import program

program.CHECK = True


@pytest.fixture(autouse=True, scope="session")
def _c_library_cache(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("SYMGRAD_CACHE", str(tmp_path_factory.mktemp("symgrad-cache")))
    yield
    patch.undo()
