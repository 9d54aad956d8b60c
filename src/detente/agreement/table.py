"""Holdings as columns: the form selectors, limits and zones are evaluated over.

A declaration is a list of holdings (site, category, count, attributes). Evaluating rules row by
row in Python costs microseconds per row and per rule; NumPy columns cost nanoseconds. The table
is built once per state and shared by every obligation; interpretations that assume different
attribute values (`assume:`) get a copy with only the touched columns replaced.

Column encodings (the `Table` protocol of selector.py): numbers as float64 with NaN for missing,
booleans as int8 with -1 for missing, strings as int32 codes into a per-column vocabulary with
-1 for missing. An item's value is its own attribute if given, else its category's default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from detente.agreement.selector import BOOL, BUILTIN_NAMES, INTEGER, LIST, NUMBER, Mask

_MISSING_CODE = -1
_ABSENT_CODE = -2  # a value no row has: compares unequal to every code, including missing


@dataclass(frozen=True)
class SiteInfo:
    kind: str
    host: str
    lon: float
    lat: float


@dataclass
class HoldingsTable:
    n: int
    count: npt.NDArray[np.int64]
    origin: npt.NDArray[np.int64]  # which source (e.g. log leaf index) each row came from
    columns: dict[str, npt.NDArray[Any]]
    vocab: dict[str, dict[str, int]]
    types: dict[str, str]
    lists: dict[str, npt.NDArray[np.object_]] = field(default_factory=dict)
    _names: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return self.n

    def column(self, name: str) -> npt.NDArray[Any]:
        try:
            return self.columns[name]
        except KeyError:
            kind = self.types.get(name, NUMBER)
            return _missing(kind, self.n)

    def code(self, name: str, value: str) -> int:
        return self.vocab.get(name, {}).get(value, _ABSENT_CODE)

    def names(self, name: str) -> list[str]:
        """Code -> string, for reporting (cached: the vocabulary of a table never changes)."""
        cache = self._names
        if name not in cache:
            inv = [""] * len(self.vocab.get(name, {}))
            for s, c in self.vocab.get(name, {}).items():
                inv[c] = s
            cache[name] = inv
        return cache[name]

    def value(self, name: str, row: int) -> Any:
        if name in self.lists:
            return self.lists[name][row]
        col = self.column(name)
        kind = self.types.get(name, NUMBER)
        v = col[row]
        if kind in (NUMBER, INTEGER):
            return None if np.isnan(v) else (int(v) if float(v).is_integer() else float(v))
        if kind == BOOL:
            return None if v < 0 else bool(v)
        return None if v < 0 else self.names(name)[int(v)]

    def with_values(self, mask: Mask, values: Mapping[str, Any]) -> HoldingsTable:
        """A copy in which rows under `mask` take `values` (one party's assumptions)."""
        cols = dict(self.columns)
        vocab = {k: dict(v) for k, v in self.vocab.items()}
        for name, v in values.items():
            kind = self.types[name]
            col = self.column(name).copy()
            if kind in (NUMBER, INTEGER):
                col[mask] = float(v)
            elif kind == BOOL:
                col[mask] = int(bool(v))
            else:
                voc = vocab.setdefault(name, {})
                col[mask] = voc.setdefault(str(v), len(voc))
            cols[name] = col
        return HoldingsTable(self.n, self.count, self.origin, cols, vocab, self.types, self.lists)

    @classmethod
    def from_items(
        cls,
        items: Sequence[Mapping[str, Any]],
        attributes: Mapping[str, Any],
        categories: Mapping[str, Any],
        sites: Mapping[str, SiteInfo],
        origins: Iterable[int] | None = None,
    ) -> HoldingsTable:
        """Items are dicts {party, site, category, count, attributes: {...}}.

        `attributes` maps name -> an object with `.type`; `categories` name -> an object with
        `.defaults`. Unknown categories are kept (they match no category literal); unknown
        attributes on an item are ignored by selectors (the loader has checked the agreement's
        own vocabulary; a declaration may carry more than one agreement cares about).
        """
        n = len(items)
        types = {name: a.type for name, a in attributes.items()}
        for b, t in BUILTIN_NAMES.items():
            types.setdefault(b, t)
        vocab: dict[str, dict[str, int]] = {}

        def encode(name: str, values: Iterable[Any]) -> npt.NDArray[np.int32]:
            voc = vocab.setdefault(name, {})
            get = voc.setdefault
            return np.fromiter(
                (_MISSING_CODE if v is None else get(v, len(voc)) for v in values), dtype=np.int32, count=n
            )

        cats = [it.get("category") for it in items]
        site_ids = [it.get("site") for it in items]
        cols: dict[str, npt.NDArray[Any]] = {
            "category": encode("category", cats),
            "party": encode("party", (it.get("party") for it in items)),
            "site": encode("site", site_ids),
        }
        kinds = {s: info.kind for s, info in sites.items()}
        hosts = {s: info.host for s, info in sites.items()}
        cols["site_kind"] = encode("site_kind", (kinds.get(s) for s in site_ids))  # type: ignore[arg-type]
        cols["host"] = encode("host", (hosts.get(s) for s in site_ids))  # type: ignore[arg-type]
        count = np.fromiter((it.get("count", 1) for it in items), dtype=np.int64, count=n)
        attrs = [it.get("attributes") or {} for it in items]
        defaults = {c: dict(getattr(cat, "defaults", {})) for c, cat in categories.items()}
        cat_col = cols["category"]
        cat_codes = vocab["category"]
        lists: dict[str, npt.NDArray[np.object_]] = {}
        nan = float("nan")
        # One pass per attribute over the items' own values (C-speed dict lookups), then category
        # defaults filled in with one vectorised assignment per category: an item's own value wins.
        for name, kind in types.items():
            if name in BUILTIN_NAMES:
                continue
            raw = [a.get(name) for a in attrs]
            fills = [(cat_codes[c], d[name]) for c, d in defaults.items() if name in d and c in cat_codes]
            if not fills and all(v is None for v in raw):
                continue
            if kind == LIST:
                own = [tuple(v) if isinstance(v, (list, tuple)) else None for v in raw]
                by_code = {code: tuple(dv) for code, dv in fills if isinstance(dv, (list, tuple))}
                arr = np.empty(n, dtype=object)
                arr[:] = [v if v is not None else by_code.get(int(cc), ())
                          for v, cc in zip(own, cat_col, strict=True)]
                lists[name] = arr
                continue
            if kind in (NUMBER, INTEGER):
                col: npt.NDArray[Any] = np.fromiter(
                    (v if type(v) is int or type(v) is float else nan for v in raw), dtype=np.float64, count=n
                )
                missing = np.isnan(col)
            elif kind == BOOL:
                col = np.fromiter(
                    (1 if v is True else 0 if v is False else -1 for v in raw), dtype=np.int8, count=n
                )
                missing = col < 0
            else:
                col = encode(name, (v if type(v) is str else None for v in raw))
                missing = col < 0
            for code, dv in fills:
                where = missing & (cat_col == code)
                if kind in (NUMBER, INTEGER):
                    ok = isinstance(dv, (int, float)) and not isinstance(dv, bool)
                    col[where] = float(dv) if ok else nan
                elif kind == BOOL:
                    col[where] = int(dv) if isinstance(dv, bool) else -1
                elif isinstance(dv, str):
                    voc = vocab.setdefault(name, {})
                    col[where] = voc.setdefault(dv, len(voc))
            cols[name] = col
        origin = (
            np.fromiter(origins, dtype=np.int64, count=n)
            if origins is not None
            else np.full(n, -1, dtype=np.int64)
        )
        return cls(n, count, origin, cols, vocab, types, lists)


def _missing(kind: str, n: int) -> npt.NDArray[Any]:
    if kind in (NUMBER, INTEGER):
        return np.full(n, np.nan)
    if kind == BOOL:
        return np.full(n, -1, dtype=np.int8)
    return np.full(n, _MISSING_CODE, dtype=np.int32)
