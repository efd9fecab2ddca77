"""The notebooks: stored without outputs, and executed top to bottom with a python3 kernel."""

from pathlib import Path

import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.helpers.extras import require

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


EXTRAS = {"04_scale_out": ("jax", "dask.array", "distributed")}   # notebooks needing extras


def test_the_four_notebooks_exist():
    assert [path.name for path in NOTEBOOKS] == [
        "01_quickstart.ipynb", "02_backprop_mlp.ipynb", "03_higher_order.ipynb",
        "04_scale_out.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_saved_without_outputs(path):
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


# checks run after a notebook, in its kernel (a cell appended to the run, never saved)
CHECKS = {
    "03_higher_order": "assert Bg.min() <= path[:, 1].min() and Bg.max() >= path[:, 1].max()\n"
                       "assert A.min() <= path[:, 0].min() and A.max() >= path[:, 0].max()",
}


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.extras) if p.stem in EXTRAS
                                  else p for p in NOTEBOOKS], ids=lambda path: path.stem)
def test_notebook_runs_top_to_bottom(path, monkeypatch, tmp_path):
    for module in EXTRAS.get(path.stem, ()):
        require(module)
    # the kernel imports this checkout's symgrad even when it is not installed; it runs from
    # another folder with no path hints, as plain nbclient runs it for a user
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT),
                                                                    os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.chdir(tmp_path)
    book = nbformat.read(path, as_version=4)
    if path.stem in CHECKS:
        book.cells.append(nbformat.v4.new_code_cell(CHECKS[path.stem]))
    client = NotebookClient(book, timeout=300, kernel_name="python3")
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [out for cell in book.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert images, "every notebook draws at least one picture"
