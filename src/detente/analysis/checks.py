"""Input checks shared by the analysis functions.

Every public function checks its arguments here first, so a bad number (more violating sites than
sites, a probability of 1.2) is refused with a `ConfigError` saying which value to change, rather
than surfacing later as a NaN in a table that negotiators would read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from detente.errors import ConfigError


def count(name: str, value: int, *, low: int = 0, high: int | None = None, hint: str = "") -> int:
    """An integer in [low, high]; bools are refused because True would silently count as 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, not {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{name} is {value}; it must be {bound}{hint}")
    return value


def probability(name: str, value: float, *, open_low: bool = False, open_high: bool = False) -> float:
    """A probability in [0, 1] (ends optionally excluded)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a number between 0 and 1, not {value!r}")
    v = float(value)
    if v < 0.0 or v > 1.0 or (open_low and v == 0.0) or (open_high and v == 1.0):
        lo, hi = ("(" if open_low else "["), (")" if open_high else "]")
        raise ConfigError(f"{name} is {v}; it must lie in {lo}0, 1{hi}")
    return v


def nonnegative(name: str, value: float, *, positive: bool = False) -> float:
    """A finite real ≥ 0 (or > 0)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, not {value!r}")
    v = float(value)
    if v < 0.0 or (positive and v == 0.0):
        raise ConfigError(f"{name} is {v}; it must be {'greater than' if positive else 'at least'} 0")
    return v


def weights(name: str, values: Sequence[float]) -> tuple[float, ...]:
    """Strictly positive finite weights: a zero weight would make a site undrawable, which is a
    fixed exclusion and should be modelled as one, not hidden in a weight."""
    out = tuple(nonnegative(f"{name}[{i}]", w, positive=True) for i, w in enumerate(values))
    if not out:
        raise ConfigError(f"{name} is empty; give one weight per site")
    return out


def population(sites: int, violating: int, inspections: int) -> None:
    """The three counts of a draw: N sites, k of them violating, n inspected."""
    count("sites", sites, low=1, hint="; a regime needs at least one site")
    count("violating", violating, high=sites, hint=f" (the number of sites is {sites})")
    count("inspections", inspections, high=sites,
          hint=f" (inspections draw without replacement from {sites} sites)")
