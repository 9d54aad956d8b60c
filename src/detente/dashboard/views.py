"""What the dashboard shows, as plain JSON built from a workspace: the public view.

Everything here is what anyone may see (docs/service.md, "Who sees what"): checkpoints and the
keys that sign them, record metadata (index, kind, author, time), the agreements' sites and their
locations, findings as status, value and bound with their evidence as leaf hashes and inclusion
proofs (`Finding.public`: never the sites, items or explanations drawn from disclosed records),
and the analysis plots. No record
body leaves through these views: a leaf hash and its proof are enough for the page to check that the
log committed to the entry a finding cites, and the page checks the checkpoint's signature itself.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from shapely.geometry import mapping

from detente import geo
from detente.agreement.loader import load_agreement
from detente.agreement.model import Agreement
from detente.compliance.check import check, read_disclosed
from detente.envelope.record import read_record, read_records
from detente.log.trust import operator_verifier, witness_verifiers
from detente.negotiate.view import negotiation_view
from detente.workspace import Workspace

#: Shipped shapes that are regions or variants of a country, not drawn as borders on the map.
NOT_BORDERS = frozenset({"atlantic-to-urals", "europe", "crimea", "russia-with-crimea",
                         "ukraine-without-crimea"})
PLOT_SUFFIXES = (".svg", ".png")


@dataclass
class Dashboard:
    """The dashboard's data source: one workspace, the agreements to evaluate."""

    ws: Workspace
    agreements: Sequence[Agreement]
    #: The agreements the log enforces (its inspection steps are judged under them too).
    enforced: Sequence[Agreement] = ()

    @classmethod
    def open(cls, ws: Workspace, agreement_files: Sequence[Path] = (), *,
             allow_outside: bool = False) -> Dashboard:
        """Evaluate `agreement_files`, else the workspace's adopted agreements."""
        adopted = ws.agreements()
        ags = ([load_agreement(f, allow_outside=allow_outside) for f in agreement_files]
               if agreement_files else adopted)
        return cls(ws, ags, adopted)

    # -- views ----------------------------------------------------------------------------------

    def overview(self) -> dict[str, Any]:
        log = self.ws.log(writable=False)
        reg = log.registry
        out: dict[str, Any] = {
            "origin": reg.origin,
            "operator_vkey": operator_verifier(reg).vkey,
            "witnesses": {pid: v.vkey for pid, v in witness_verifiers(reg).items()},
            "parties": sorted(reg.parties),
            "size": log.size(),
            "agreements": [{"id": a.id, "title": a.title, "legal_status": a.legal_status}
                           for a in self.agreements],
            "plots": self.plots(),
            "proposals": [{"id": p.id, "title": p.title} for p in self.ws.proposals()],
        }
        if out["size"]:
            scp = log.latest()
            out["checkpoint"] = {"size": scp.checkpoint.size, "note": scp.encode()}
            out["default_at"] = self.default_at().isoformat()
        return out

    def default_at(self) -> dt.date:
        """The date of the latest record: a workspace replayed on a simulated clock (the demo)
        opens on its own last day, not on today's."""
        store = self.ws.store()
        n = store.size()
        last = store.entries(n - 1, n) if n else []
        if not last:
            return dt.date.today()
        rec = read_record(last[0].index, last[0].leaf)
        return rec.signed_at.date()

    def timeline(self, limit: int = 5000) -> list[dict[str, Any]]:
        """Record metadata in log order (the newest `limit`): what, who, when; never the body."""
        store = self.ws.store()
        size = store.size()
        start = max(0, size - limit)
        leaves = ((e.index, e.leaf) for e in store.entries(start, size))
        return [{"index": r.index, "kind": r.kind, "author": r.author, "seq": r.seq,
                 "signed_at": r.signed_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
                for r in read_records(leaves)]

    def findings(self, at: dt.date) -> dict[str, Any]:
        """Every agreement at `at`: in force as agreed, the others hypothetically (marked)."""
        log = self.ws.log(writable=False)
        if not log.size():
            return {"at": at.isoformat(), "findings": [], "checkpoint": None}
        res = check(self.agreements, log, at, hypothetical=True, disclosed=read_disclosed(self.ws.disclosed),
                    enforced=self.enforced)
        return {"at": at.isoformat(), "checkpoint": res.checkpoint,
                "findings": [f.public().to_json() for f in res.findings]}

    def negotiation(self, at: dt.date) -> dict[str, Any]:
        """The workspace's proposals compared, and what each would change on the log's postures
        (empty when it tracks none)."""
        return negotiation_view(self.ws, at, public=True) or {"diffs": [], "impacts": []}

    def map(self) -> dict[str, Any]:
        sites: dict[str, dict[str, Any]] = {}
        for a in self.agreements:
            for s in a.sites.values():
                sites[s.id] = {"id": s.id, "name": s.name, "owner": s.owner, "host": s.host,
                               "kind": s.kind, "lon": s.lon, "lat": s.lat}
        return {"borders": borders(), "sites": sorted(sites.values(), key=lambda s: s["id"])}

    def plots(self) -> list[str]:
        d = self.ws.path / "analysis"
        return sorted(p.name for p in d.iterdir() if p.suffix in PLOT_SUFFIXES) if d.is_dir() else []

    def plot_path(self, name: str) -> Path | None:
        """The file for a listed plot name only (no path from the request reaches the disk)."""
        return self.ws.path / "analysis" / name if name in self.plots() else None


@lru_cache(maxsize=1)
def borders() -> list[dict[str, Any]]:
    """Simplified border shapes (about 0.05° tolerance: a few kilometres, invisible at map scale)."""
    out = []
    for name in geo.builtin_shape_names():
        if name in NOT_BORDERS:
            continue
        g = geo.load_builtin(name).simplify(0.05, preserve_topology=True)
        out.append({"name": name, "geometry": _rounded(json.loads(json.dumps(mapping(g))))})
    return out


def _rounded(v: Any) -> Any:
    """Coordinates to 0.01° (about a kilometre): a third of the bytes, nothing visible lost."""
    if isinstance(v, float):
        return round(v, 2)
    if isinstance(v, list):
        return [_rounded(x) for x in v]
    if isinstance(v, dict):
        return {k: _rounded(x) for k, x in v.items()}
    return v
