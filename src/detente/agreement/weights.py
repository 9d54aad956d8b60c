"""The weight format of inspection draws, part of the agreement language.

An inspection regime may weight its pool by site kind (`weights: {ICBM base: 2}`). The loader
checks each weight when the agreement is read, and the joint draw (`inspection.draw`) turns the
same weights into integers, so both must agree on one format: a finite decimal ≥ 0 with at most
six decimals, held as an integer number of millionths so the sampler is integer arithmetic.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from detente.errors import DetenteError

__all__ = ["WEIGHT_SCALE", "WeightError", "weight_units"]

#: Weights are fixed-point with six decimals, so the sampler is integer arithmetic throughout.
WEIGHT_SCALE = 1_000_000


class WeightError(DetenteError):
    """A draw weight that is not a finite number ≥ 0 with at most six decimals."""

    code = "draw"


def weight_units(weight: float | int | str | Decimal) -> int:
    """A weight as an integer number of millionths, exactly (refused if finer or negative)."""
    try:
        d = Decimal(str(weight))
    except InvalidOperation as exc:
        raise WeightError(f"weight {weight!r} is not a number") from exc
    if not d.is_finite() or d < 0:
        raise WeightError(f"weight {weight!r} must be a finite number ≥ 0")
    units = d * WEIGHT_SCALE
    if units != units.to_integral_value():
        raise WeightError(f"weight {weight!r} has more than six decimals; the draw uses millionths")
    return int(units)
