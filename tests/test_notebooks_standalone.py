"""Notebooks run as a user runs them: plain nbclient, from another working directory, with no
path hints (issue 11 item 13)."""

import inspect
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
import mlp  # noqa: E402


def run_elsewhere(path: Path, tmp_path, monkeypatch, extra: str | None = None):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # symgrad itself, as if installed; no examples/
    monkeypatch.setenv("MPLBACKEND", "Agg")
    book = nbformat.read(path, as_version=4)
    if extra:
        book.cells.append(nbformat.v4.new_code_cell(extra))
    NotebookClient(book, timeout=180, kernel_name="python3").execute()
    return book


def test_notebook_02_inlines_the_mlp_of_examples_exactly():
    book = nbformat.read(ROOT / "notebooks" / "02_backprop_mlp.ipynb", as_version=4)
    source = book.cells[1].source
    for name in ("make_xor", "make_spiral", "build_mlp", "init_params", "accuracy", "train"):
        assert inspect.getsource(getattr(mlp, name)) in source + "\n", name
    assert "sys.path" not in source


def test_notebook_02_runs_from_another_directory(tmp_path, monkeypatch):
    run_elsewhere(ROOT / "notebooks" / "02_backprop_mlp.ipynb", tmp_path, monkeypatch)


def test_notebook_03_contours_cover_the_newton_path(tmp_path, monkeypatch):
    check = ("assert Bg.min() <= path[:, 1].min() and Bg.max() >= path[:, 1].max()\n"
             "assert A.min() <= path[:, 0].min() and A.max() >= path[:, 0].max()")
    run_elsewhere(ROOT / "notebooks" / "03_higher_order.ipynb", tmp_path, monkeypatch, check)
