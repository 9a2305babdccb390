"""The Explorer under review: picker changes that fail, tasks that overlap, failures that must name their cause.

Real widgets against a real server over sockets (the LocalSDC, or pytest-httpserver where a test must hold an
answer back until it has done something in the meantime); nothing of imap_explorer is replaced.
"""

from __future__ import annotations

import pytest

ipywidgets = pytest.importorskip("ipywidgets")

from imap_explorer.widgets import Explorer  # noqa: E402


def test_explorer_picker_change_error_shows_in_the_widget(monkeypatch):
    # A change made in the browser runs in ipywidgets' message handler: an exception raised there would only
    # reach the kernel log. Here the environment names an SDC URL without its scheme.
    monkeypatch.setenv("IMAP_DATA_ACCESS_URL", "api.imap-mission.com")
    explorer = Explorer(background=False)
    explorer._instrument.value = "swe"  # the user picks another instrument
    assert explorer.instrument == "swe"
    assert explorer.error.startswith("Changing the instrument to 'swe' failed: ValueError: Invalid SDC URL")
    assert "api.imap-mission.com" in explorer._error.value
    assert explorer._error.layout.display is None
