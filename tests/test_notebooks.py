"""Every notebook in notebooks/ runs end to end on its small settings, and is committed
without outputs. The kernel is this interpreter (the venv under test), whatever kernels
are installed elsewhere, and runs in a temporary folder so results stay out of the repo."""

import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from jupyter_client.kernelspec import KernelSpec  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
SECONDS = 60
"""Each notebook must run in this long (its settings are chosen to take well under it)."""


class ThisPython(KernelManager):
    """A kernel run by the interpreter running the tests, not whatever `python3` names."""

    @property
    def kernel_spec(self) -> KernelSpec:
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        return KernelSpec(argv=argv, display_name="Python 3", language="python")


def test_there_are_notebooks():
    assert {path.name for path in NOTEBOOKS} >= {"analysis.ipynb", "mechanisms.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        km=ThisPython(),
        timeout=2 * SECONDS,  # per cell: a hang fails rather than stalls the suite
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
    )
    tic = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, if any cell errors
    seconds = time.perf_counter() - tic
    assert seconds < SECONDS, f"{path.name} took {seconds:.0f} s"

    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    assert any("image/png" in output.get("data", {}) for output in outputs), "no plot shown"
    assert list(tmp_path.glob("results/*/*/summary.csv")), "no results in the working dir"
