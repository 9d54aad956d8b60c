"""The holdings table's column work: building it from declarations, masks, weights and groups.

NumPy plumbing shared by the counted rules and the capability rule, kept apart from what a
finding says so that each family module reads as the treaty rule it implements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from detente.agreement.model import Agreement, Reading
from detente.agreement.table import HoldingsTable, SiteInfo

if TYPE_CHECKING:
    from detente.compliance.projection import State

__all__ = ["TOP", "assumed", "build_table", "groups", "item_keys", "missing", "num", "site_table",
           "table_key", "weights"]

TOP = 20  # sites and item groups listed per finding; the totals always cover everything


def build_table(ag: Agreement, state: State) -> HoldingsTable:
    items: list[Mapping[str, Any]] = []
    origins: list[int] = []
    for d in state.declarations.values():
        items.extend(d.holdings)
        origins.extend([d.record.index] * len(d.holdings))
    sites = site_table(ag, state)
    return HoldingsTable.from_items(
        items,
        ag.attributes,
        ag.categories,
        {k: SiteInfo(v[0], v[1], v[2], v[3]) for k, v in sites.items()},
        origins,
    )


def table_key(ag: Agreement) -> tuple[Any, ...]:
    """Agreements sharing a vocabulary (and sites) can share one holdings table."""
    attrs = tuple(sorted((a.name, a.type) for a in ag.attributes.values()))
    cats = tuple(sorted((c.name, repr(sorted(c.defaults.items()))) for c in ag.categories.values()))
    sites = tuple(sorted((s.id, s.kind, s.host, s.lon, s.lat) for s in ag.sites.values()))
    return attrs, cats, sites


def site_table(ag: Agreement, state: State) -> dict[str, tuple[str, str, float, float]]:
    out = {s.id: (s.kind, s.host, s.lon, s.lat) for s in ag.sites.values()}
    out.update(state.site_locations())  # a party's own declaration of its sites prevails
    return out


def assumed(table: HoldingsTable, reading: Reading) -> HoldingsTable:
    for where, values in reading.assume:
        table = table.with_values(where.mask(table), values)
    return table


def missing(table: HoldingsTable, name: str) -> npt.NDArray[np.bool_]:
    """Rows with no value for attribute `name` (NaN numbers, -1 codes and flags)."""
    col = table.column(name)
    return np.asarray(np.isnan(col) if col.dtype.kind == "f" else col < 0, dtype=np.bool_)


def weights(
    table: HoldingsTable, reading: Reading
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Per-row contribution to the value, and rows whose contribution is unknown."""
    count = table.count.astype(np.float64)
    if reading.sum is None:
        return count, np.zeros(len(table), dtype=np.bool_)
    per = table.column(reading.sum).astype(np.float64)
    for where, counts_as in reading.counting:
        per = np.where(where.mask(table), float(counts_as), per)
    missing = np.isnan(per)
    return np.where(missing, 0.0, per) * count, missing


def groups(
    table: HoldingsTable,
    rows: npt.NDArray[np.bool_],
    w: npt.NDArray[np.float64],
    by: Sequence[str],
    limit: int = TOP,
) -> list[dict[str, Any]]:
    """Sum of `w` over `rows`, grouped by the given columns, largest first (the first `limit`).

    Each column is turned into small integer codes and the codes into one mixed-radix key, so
    grouping a million rows is a bincount, not a sort of row tuples; only the groups reported
    are decoded back into values.
    """
    idx = np.flatnonzero(rows)
    if not len(idx):
        return []
    key = np.zeros(len(idx), dtype=np.int64)
    radix: list[tuple[int, Any]] = []
    mult = 1
    for b in by:
        col = table.column(b)[idx]
        if col.dtype.kind == "f":
            uniq, codes = np.unique(col, return_inverse=True)
            card = len(uniq)
            decode: Any = ("num", uniq)
        else:
            codes = col.astype(np.int64) + 1  # missing (-1) becomes 0
            card = int(codes.max()) + 1
            decode = ("bool", None) if table.types.get(b) == "bool" else ("str", table.names(b))
        if mult > (1 << 62) // max(card, 1):
            raise AssertionError("grouping key overflow")  # not reachable with report-sized groupings
        key += codes.reshape(-1).astype(np.int64) * mult
        radix.append((card, decode))
        mult *= card
    weights = w[idx]
    if mult <= 4 * len(idx) + 4096:
        sums = np.bincount(key, weights=weights, minlength=mult)
        present = np.bincount(key, minlength=mult) > 0
        keys = np.flatnonzero(present)
        sums = sums[keys]
    else:
        keys, inv = np.unique(key, return_inverse=True)
        sums = np.bincount(inv.reshape(-1), weights=weights, minlength=len(keys))
    order = np.argsort(-sums, kind="stable")[:limit]
    out = []
    for g in order:
        k = int(keys[g])
        entry: dict[str, Any] = {}
        for b, (card, (how, table_of)) in zip(by, radix, strict=True):
            k, c = divmod(k, card)
            if how == "num":
                v = float(table_of[c])
                entry[b] = None if np.isnan(v) else num(v)
            elif how == "bool":
                entry[b] = None if c == 0 else bool(c - 1)
            else:
                entry[b] = None if c == 0 else table_of[c - 1]
        entry["count"] = num(float(sums[g]))
        out.append(entry)
    return out


def num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def item_keys(table: HoldingsTable, reading: Reading, other: Reading | None = None) -> list[str]:
    keys = ["category"]
    names = reading.select.names | (other.select.names if other is not None else frozenset())
    for n in sorted(names - {"category", "party", "site"}):
        keys.append(n)
    if "system" in table.columns and "system" not in keys:
        keys.append("system")
    return keys
