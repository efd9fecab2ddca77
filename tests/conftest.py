"""Test-suite settings: the evaluator's checking mode is on for every test (each instruction's
value must have its node's declared dtype and shape), the C backend's library cache is a
temporary folder, and hypothesis draws the same examples on every run (a CI failure is then
reproducible; the slow tests, ``-m slow``, draw new ones with ``derandomize=False``)."""

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
