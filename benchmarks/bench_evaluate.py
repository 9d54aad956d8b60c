"""Evaluating synthetic inventories against every obligation of the 2022 scenario.

For 10,000, 100,000 and 1,000,000 holdings (two parties, 2,000 sites, every scenario category),
prints the time to build the holdings table from declared items, the time to evaluate all four
scenario agreements (New START in force; the proposals hypothetically, so every rule runs), and,
as the reference measured in the same run, a hand-written NumPy pass computing the same limit
values over the same columns: the floor for any columnar evaluator on this machine. The goal is
evaluation under 2 s at 1,000,000 holdings, growing linearly.

    python benchmarks/bench_evaluate.py [--sizes 10000,100000,1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from typing import Any

import numpy as np

from detente.agreement.loader import load_agreement
from detente.compliance.evaluate import build_table, evaluate, table_key
from detente.compliance.projection import Declaration, Projection
from detente.model.records import LoggedRecord
from detente.scenarios import agreement_files

AT = dt.date(2022, 3, 1)
CATEGORIES: list[tuple[str, dict[str, Any]]] = [
    ("ICBM", {"deployed": True, "warheads": 1, "system": "Minuteman III"}),
    ("ICBM", {"deployed": False, "warheads": 1, "system": "Minuteman III"}),
    ("SLBM", {"deployed": True, "warheads": 4, "system": "Trident II D5"}),
    ("ICBM launcher", {"deployed": True, "status": "operational"}),
    ("SLBM launcher", {"deployed": False, "status": "converted"}),
    ("heavy bomber", {"deployed": True, "status": "nuclear", "system": "B-52H"}),
    ("GLCM", {"system": "9M729", "range_km": 480, "deployed": True}),
    ("GLBM", {"system": "9M723", "range_km": 415, "deployed": True}),
    ("MK 41 launcher", {}),
    ("SM-3", {"system": "SM-3 Block IB", "deployed": True}),
]


def synthetic(n: int, seed: int = 7) -> Projection:
    rnd = random.Random(seed)
    sites: dict[str, list[dict[str, Any]]] = {"US": [], "RU": []}
    for i in range(2000):
        party = "US" if i % 2 else "RU"
        # a spread over Europe and beyond, so zone tests see points inside and outside
        lon, lat = rnd.uniform(-10, 60), rnd.uniform(35, 65)
        sites[party].append(
            {"id": f"s{i}", "name": f"site {i}", "host": party, "kind": "storage", "location": [lon, lat]}
        )
    sites["US"][0]["id"] = "deveselu"
    sites["US"][1]["id"] = "redzikowo"
    h = Projection()
    t = dt.datetime(2022, 3, 29, tzinfo=dt.UTC)
    for k, party in enumerate(("US", "RU")):
        items = []
        own = [s["id"] for s in sites[party]]
        for _ in range(n // 2):
            cat, attrs = CATEGORIES[rnd.randrange(len(CATEGORIES))]
            items.append(
                {
                    "party": party,
                    "site": own[rnd.randrange(len(own))],
                    "category": cat,
                    "count": rnd.randrange(1, 20),
                    "attributes": attrs,
                }
            )
        rec = LoggedRecord(k, "declaration", party, 1, t, {})
        h.declarations.append(Declaration(rec, AT, tuple(items), {s["id"]: s for s in sites[party]}, {}))
    return h


def reference(table: Any) -> float:
    """The same limit values, hand-coded in NumPy over the same columns (no parsing, no readings,
    no grouping, no explanations): the floor."""
    t0 = time.perf_counter()
    cat, party = table.column("category"), table.column("party")
    code = table.code
    cnt = table.count.astype(np.float64)
    for p in ("US", "RU"):
        pm = party == code("party", p)
        dv = (
            np.isin(cat, [code("category", c) for c in ("ICBM", "SLBM", "heavy bomber")])
            & (table.column("deployed") == 1)
            & pm
        )
        _ = cnt[dv].sum()
        w = np.where(cat == code("category", "heavy bomber"), 1.0, table.column("warheads"))
        _ = (np.nan_to_num(w) * cnt)[dv].sum()
        lm = (
            np.isin(cat, [code("category", c) for c in ("ICBM launcher", "SLBM launcher", "heavy bomber")])
            & pm
        )
        _ = cnt[lm].sum()
        st = table.column("status")
        _ = cnt[lm & ~np.isin(st, [code("status", "converted"), code("status", "training")])].sum()
        rng = table.column("range_km")
        _ = cnt[
            np.isin(cat, [code("category", "GLCM"), code("category", "GLBM")])
            & (rng >= 500)
            & (rng <= 5500)
            & pm
        ].sum()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    agreements = [load_agreement(f) for f in agreement_files("2022")]
    n_obl = sum(len(a.obligations) for a in agreements)
    print(f"{len(agreements)} agreements, {n_obl} obligations, evaluated at {AT} (proposals hypothetically)")
    print(
        f"{'holdings':>10} {'build s':>9} {'evaluate s':>11} {'findings':>9} {'µs/holding':>11} "
        f"{'numpy floor s':>14} {'ratio':>7}"
    )
    per: list[float] = []
    for n in (int(x) for x in args.sizes.split(",")):
        h = synthetic(n)
        state = h.at(AT)
        builds, evals, refs = [], [], []
        nf = 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            shared: dict[Any, Any] = {}
            for a in agreements:  # agreements sharing a vocabulary share one table, as check() does
                if table_key(a) not in shared:
                    shared[table_key(a)] = build_table(a, state)
            tables = [shared[table_key(a)] for a in agreements]
            builds.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            nf = 0
            for a, tb in zip(agreements, tables, strict=True):
                nf += len(evaluate(a, state, hypothetical=True, table=tb))
            evals.append(time.perf_counter() - t0)
            refs.append(reference(tables[0]))
        b, e, r = min(builds), min(evals), min(refs)
        per.append(e / n * 1e6)
        print(f"{n:>10,} {b:>9.3f} {e:>11.3f} {nf:>9} {e / n * 1e6:>11.3f} {r:>14.4f} {e / r:>7.1f}")
    if len(per) > 1:
        print(
            f"linearity: µs per holding at the largest size / at the smallest = {per[-1] / per[0]:.2f} "
            "(1.0 = linear; below 1 means fixed costs amortise)"
        )


if __name__ == "__main__":
    main()
