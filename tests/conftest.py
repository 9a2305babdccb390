"""Shared fixtures: every test starts offline, with no credentials and a private data directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
requires_real = pytest.mark.skipif(not REAL.is_dir(), reason="real IMAP CDFs not available (../shared/data/real)")

#: Files written by imap-processing 1.0.40 itself (tests/sdc_writer/make_files.py). They are stored as
#: ``sdc-writer_<rest of the SDC name>`` so that no tracked file can be taken for a flight file; the
#: ``sdc_writer`` fixture gives them back under their SDC names.
SDC_WRITER = Path(__file__).resolve().parent / "sdc_writer"
SDC_WRITER_PREFIX = "sdc-writer_"
SDC_WRITER_NAMES = sorted(p.name.replace(SDC_WRITER_PREFIX, "imap_", 1) for p in SDC_WRITER.glob("*.cdf"))


@pytest.fixture
def sdc_writer(tmp_path) -> dict[str, Path]:
    """The imap-processing files copied into a temporary folder under their SDC names: ``{name: path}``."""
    import shutil

    folder = tmp_path / "sdc_writer"
    folder.mkdir()
    return {name: Path(shutil.copyfile(SDC_WRITER / name.replace("imap_", SDC_WRITER_PREFIX, 1), folder / name))
            for name in SDC_WRITER_NAMES}


@pytest.fixture
def sample_names() -> tuple[str, ...]:
    """The files in ``sample_sdc``'s archive: ``server.sample.SAMPLE_FILES``; a test module overrides this fixture
    to serve names of its own."""
    from imap_explorer.server.sample import SAMPLE_FILES

    return SAMPLE_FILES


@pytest.fixture
def sample_sdc(tmp_path, sample_names):
    """A LocalSDC over a private, writable sample archive (``server.sample``) of the files ``sample_names``."""
    from imap_explorer.server import LocalSDC
    from imap_explorer.server.sample import write_sample_archive

    root = tmp_path / "archive"
    write_sample_archive(root, sample_names)
    with LocalSDC(root) as server:
        yield server


#: The small synthetic archive every server/load/plot test shares (built once per session).
ARCHIVE_START = "2026-01-20"
ARCHIVE_DAYS = 2


def pytest_configure(config):
    # The tutorial notebooks (run by nbmake in kernels that inherit this environment) use the embedded server
    # and the synthetic archive unless told otherwise: the tests stay offline.
    os.environ.setdefault("IMAP_EXPLORER_SOURCE", "local")


@pytest.fixture(scope="session")
def _user_cache(tmp_path_factory) -> Path:
    """The tests' own ``XDG_CACHE_HOME`` (one a session): LocalSDC's index of a read-only archive goes there."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path, _user_cache):
    for name in ("IMAP_API_KEY", "IMAP_ACCESS_TOKEN", "IMAP_DATA_ACCESS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IMAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(_user_cache))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def read_only(root: Path) -> Path:
    """Take the write permission off ``root`` and everything below it; return ``root``.

    A LocalSDC over it then keeps its index in the (tests') user cache instead of beside the archive
    (``server.index.default_db_path``), so tests that share the tree cannot leave files in it for others to find.
    """
    for path in [*root.rglob("*"), root]:
        path.chmod(path.stat().st_mode & ~0o222)
    return root


@pytest.fixture(scope="session")
def synthetic_archive(tmp_path_factory) -> Path:
    """A read-only synthetic archive (MAG and SWE, two days), shared by the session. Copy it to write into it."""
    from imap_explorer.synthetic import make_archive

    root = tmp_path_factory.mktemp("synthetic-archive")
    make_archive(root, start=ARCHIVE_START, days=ARCHIVE_DAYS, seed=1, instruments=("mag", "swe"))
    return read_only(root)


@pytest.fixture
def record_reads(monkeypatch) -> list[tuple[str, int]]:
    """Record ``(variable, n_records)`` of every read through the real ``_reader.read_records`` (not a mock)."""
    from imap_explorer import _reader

    reads: list[tuple[str, int]] = []
    real = _reader.read_records

    def recording(path, name, start=0, stop=None, **kw):
        out = real(path, name, start, stop, **kw)
        reads.append((name, len(out)))
        return out

    monkeypatch.setattr(_reader, "read_records", recording)
    return reads
