"""Notebook 02 is self-sufficient (issue 11 item 13): it inlines examples/mlp.py, kept identical
here; tests/test_notebooks.py runs every notebook from another folder with plain nbclient."""

import inspect
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
import mlp  # noqa: E402


def test_notebook_02_inlines_the_mlp_of_examples_exactly():
    book = nbformat.read(ROOT / "notebooks" / "02_backprop_mlp.ipynb", as_version=4)
    source = book.cells[1].source
    for name in ("make_xor", "make_spiral", "build_mlp", "init_params", "accuracy", "train"):
        assert inspect.getsource(getattr(mlp, name)) in source + "\n", name
    assert "sys.path" not in source

