"""The example notebooks of docs/notebooks run from top to bottom (on short durations) and
are committed without outputs.

Each notebook's cell tagged ``parameters`` sets its durations; the test runs a cell after
it that shortens them (papermill's convention), then executes the notebook with nbclient in
a fresh kernel. Skipped when nbclient or ipykernel are not installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "docs" / "notebooks"
SHORT = {
    "pump-cycle.ipynb": "DURATION_MS = 2.0\nVIDEO_SECONDS = 0.2",
    "hodgkin-keynes.ipynb": "DURATION_MS = 2.0",
    "saturation-sweep.ipynb": "DURATION_MS = 0.5\nREPLICATES = 2\nVALUES = [5, 20]",
}


def test_every_notebook_has_short_parameters():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(SHORT)


@pytest.mark.parametrize("name", sorted(SHORT))
def test_notebook_is_committed_without_outputs(name):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", sorted(SHORT))
def test_notebook_runs(name, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(SHORT[name]))
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, when one fails
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type in ("stream", "execute_result", "display_data") for o in outputs)
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert figures, "no figure shown (a backend forced to Agg shows none in a notebook)"
    assert all(sum("image/png" in o.get("data", {}) for o in c.outputs) <= 1
               for c in nb.cells if c.cell_type == "code"), "a figure shown twice"


def test_docs_site_builds_in_strict_mode(tmp_path, monkeypatch):
    """``make docs``: mkdocs in strict mode (a broken link fails) builds the README as the
    home page, the model description and the notebooks."""
    pytest.importorskip("mkdocs_jupyter")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    root = NOTEBOOKS.parents[1]
    monkeypatch.chdir(root)
    site = tmp_path / "site"
    build(load_config(str(root / "mkdocs.yml"), site_dir=str(site), strict=True))
    assert "Quick start" in (site / "index.html").read_text(encoding="utf-8")
    assert (site / "model.html").is_file() and (site / "screenshot.png").is_file()
    for name in SHORT:
        assert (site / "notebooks" / name.replace(".ipynb", ".html")).is_file()
