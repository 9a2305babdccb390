"""What a recipe returns: a :class:`Plan` of panels, each of one kind, with its variables, scales and labels.

Time-axis plans hold :class:`~imap_explorer.plot.timeseries.Panel` objects (lines and spectrograms that share
one time axis, stackable with other products). Plans of one-record products, maps and events hold
:class:`View` objects, each drawn in its own axes (a Mollweide projection for sky maps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from imap_explorer.plot.timeseries import Panel

ViewKind = Literal["sky_map", "profile", "image", "histogram", "scatter", "lines"]
#: The kind of a time-axis Panel, in the vocabulary of plans ("lines" or "spectrogram").
_TIME_KINDS = {"mag_magnitude": "lines", "mag_vector": "lines", "time_series": "lines", "events": "lines",
               "energy_spectrogram": "spectrogram", "angle_spectrogram": "spectrogram",
               "pitch_angle": "spectrogram", "spectrogram": "spectrogram"}


@dataclass(frozen=True)
class View:
    """One panel that is not drawn against time.

    ``variable`` is drawn after picking ``select`` (``(dimension, index)`` pairs) and averaging (or summing,
    ``reduce="sum"``) over ``over``. ``x``/``y`` name the variables (or dimensions) of the axes; a sky map
    places its cells with ``lon``/``lat`` (grid coordinates, or per-pixel centres of HEALPix pixels).
    ``members`` overlays more variables on a profile; ``errors`` gives a profile's uncertainty band.
    ``log`` and ``log_x``/``log_y`` set the colour (or profile value) and axis scales; ``center`` is the
    longitude in the middle of a sky map; ``title`` the panel's title and ``label`` its colour bar or
    y-axis label.
    """

    kind: ViewKind
    variable: str
    x: str | None = None
    y: str | None = None
    select: tuple[tuple[str, int], ...] = ()
    over: tuple[str, ...] = ()
    reduce: Literal["mean", "sum"] = "mean"
    members: tuple[str, ...] = ()
    errors: str | None = None
    lon: str | None = None
    lat: str | None = None
    log: bool = False
    log_x: bool = False
    log_y: bool = False
    center: float = 0.0
    mask: str | None = None
    title: str = ""
    label: str = ""

    @property
    def projection(self) -> str | None:
        """The matplotlib projection of the panel's axes (``"mollweide"`` for sky maps)."""
        return "mollweide" if self.kind == "sky_map" else None


@dataclass
class Plan:
    """What to draw for one dataset: panels (time-axis :class:`Panel` or :class:`View`) and a title.

    ``recipe`` names the recipe that made the plan; ``time_axis`` says whether the panels share a time axis
    (and can be stacked with other products); ``title`` is the product's own title (a map's species, frame,
    spin-angle mode and duration); ``notes`` are said in a warning (what was left out).
    """

    recipe: str
    panels: list = field(default_factory=list)
    time_axis: bool = True
    title: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        """The kind of every panel: ``lines``, ``spectrogram``, ``sky_map``, ``profile``, ``image`` ...

        Examples
        --------
        >>> Plan("demo", [Panel("mag_vector", "b_gse"), View("sky_map", "ena_intensity")], time_axis=False).kinds
        ['lines', 'sky_map']
        """
        return [_TIME_KINDS.get(p.kind, p.kind) if isinstance(p, Panel) else p.kind for p in self.panels]
