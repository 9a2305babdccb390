"""Which recipe draws a dataset: chosen by product (instrument, data level, descriptor pattern), then ISTP hints.

A recipe is a function ``recipe(ds, **options) -> Plan`` (pure: it reads the Dataset and decides, it draws
nothing). Register your own with :func:`register_recipe`; the newest registration that matches wins, so a
user's recipe replaces the built-in one for the products it names::

    from imap_explorer.plot import Plan, View, register_recipe

    @register_recipe(instrument="hi", data_level="l2", descriptor="h90-*")
    def my_map(ds, **options):
        return Plan("my_map", [View("sky_map", "ena_intensity", lon="longitude", lat="latitude",
                                    select=(("energy", 4),), log=True)], time_axis=False)
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from imap_explorer.plot._istp import Product, product_of

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

    from imap_explorer.plot.plan import Plan

Recipe = Callable[..., "Plan"]


@dataclass(frozen=True)
class _Entry:
    recipe: Recipe
    instrument: str | None
    data_level: str | None
    descriptor: str | None
    when: Callable[[xr.Dataset], bool] | None

    def matches(self, product: Product, ds: xr.Dataset) -> bool:
        for pattern, value in ((self.instrument, product.instrument), (self.data_level, product.data_level),
                               (self.descriptor, product.descriptor)):
            if pattern is not None and not fnmatch.fnmatchcase(value or "", pattern.lower()):
                return False
        return self.when is None or bool(self.when(ds))


_ENTRIES: list[_Entry] = []


def register_recipe(recipe: Recipe | None = None, *, instrument: str | None = None, data_level: str | None = None,
                    descriptor: str | None = None, when: Callable[[xr.Dataset], bool] | None = None) -> Any:
    """Register ``recipe`` for the products it matches (shell-style patterns, case-insensitive).

    Parameters
    ----------
    recipe : callable, optional
        ``recipe(ds, **options) -> Plan``. Without it, ``register_recipe(...)`` is a decorator.
    instrument, data_level, descriptor : str, optional
        Patterns on the product's names (``"hi"``, ``"l[23]*"``, ``"*-ena-*"``); None matches anything.
    when : callable, optional
        ``when(ds) -> bool``: a further test on the dataset (its variables or dimensions).

    Returns
    -------
    The recipe (so it can be used as a decorator).

    Examples
    --------
    >>> from imap_explorer.plot.plan import Plan
    >>> import xarray as xr
    >>> def mine(ds, **options):
    ...     return Plan("mine", [])
    >>> _ = register_recipe(mine, instrument="idex", descriptor="sci-*")
    >>> choose_recipe(xr.Dataset(attrs={"Logical_source": "imap_idex_l1a_sci-1week"})).__name__
    'mine'
    >>> unregister_recipe(mine)
    """
    def add(func: Recipe) -> Recipe:
        _ENTRIES.append(_Entry(func, instrument, data_level, descriptor, when))
        return func

    return add if recipe is None else add(recipe)


def unregister_recipe(recipe: Recipe) -> None:
    """Forget every registration of ``recipe``."""
    _ENTRIES[:] = [e for e in _ENTRIES if e.recipe is not recipe]


def choose_recipe(ds: xr.Dataset) -> Recipe:
    """The recipe for ``ds``: the newest registered one matching its product, else one from its ISTP hints."""
    from imap_explorer.plot import recipes  # the built-in registrations

    product = product_of(ds)
    for entry in reversed(_ENTRIES):
        if entry.matches(product, ds):
            return entry.recipe
    return recipes.by_istp_hints(ds)


def make_plan(ds: xr.Dataset, **options: Any) -> Plan:
    """The plan of ``ds`` from its recipe (see :func:`choose_recipe`); options are passed to the recipe."""
    return choose_recipe(ds)(ds, **options)
