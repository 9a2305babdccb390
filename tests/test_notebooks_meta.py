"""The tutorials as files: committed without outputs, one data-source switch first, links that resolve.

Running them is nbmake's job (``notebooks`` is in pytest's testpaths); these checks keep them tidy.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

import imap_explorer as ie

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = ["01_getting_started", "02_mag_quicklook", "03_swe", "04_explorer", "05_long_time_ranges",
            "06_ten_instruments"]


def _notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_notebooks_are_the_six_tutorials():
    assert [p.stem for p in _notebooks()] == EXPECTED


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell has outputs (clear them before committing)"
            assert cell.execution_count is None, f"{path.name}: a cell has an execution count"
    assert path.stat().st_size < 40_000


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_notebook_starts_with_the_source_switch(path):
    notebook = nbformat.read(path, as_version=4)
    assert notebook.cells[0].cell_type == "markdown"
    assert notebook.cells[0].source.startswith("# ")  # a title
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert "source = tutorial_source()" in first_code.source
    assert "IMAP_EXPLORER_SOURCE" in "".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    # Nothing before the switch may talk to an SDC.
    assert not re.search(r"ie\.(query|download|load|get_data)\(", first_code.source)


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_notebook_links_resolve(path):
    text = "".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    for target in re.findall(r"\]\(([^)#\s]+\.ipynb)\)", text):
        assert (NOTEBOOKS / target).is_file(), f"{path.name} links to a missing {target}"


def test_package_query_stays_the_function_after_its_module_is_imported():
    # The tutorials call ie.query again and again, after other parts of the package imported its module.
    import imap_explorer.query  # noqa: F401
    import imap_explorer.widgets  # noqa: F401

    assert callable(ie.query)
    assert ie.query.__name__ == "query"
    assert ie.query.__module__ == "imap_explorer.query"
