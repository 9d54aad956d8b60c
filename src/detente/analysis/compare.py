"""The 2022 question: what does each way of choosing sites catch, quota by quota?

In January 2022 the United States offered reciprocal transparency visits to "two Russian
ground-launched missile bases" — two bases of the inspecting side's choosing. Against that we set
a joint random draw (uniform, or weighted by site class) and challenge inspections guided by a
prior, on the inspected party's sites of the kinds that could hold ground-launched missiles, for
every quota from 1 to the number of sites:

- unilateral choice: the inspector's preferences are known (they follow from public reporting and
  from what it asked for), so a strategic host keeps violations at the sites it will not pick;
- joint uniform draw: neither side can bias it, so where the violation is does not matter;
- joint class-weighted draw: more weight on the classes thought more suspicious; a violator who
  knows the weights hides in the least-weighted class;
- challenge with a prior: the inspector challenges the sites its prior ranks highest, and the
  violation is where the prior says (the intelligence is right and the violator cannot adapt). A
  violator who does know and can act on the prior turns this into the unilateral case.

Each point is computed exactly (regime.exact_detection) and checked by Monte Carlo. Plain data,
no I/O: export.py writes the table and the plots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from detente.analysis import checks
from detente.analysis.montecarlo import Estimate, simulate
from detente.analysis.regime import (
    Fixed,
    Regime,
    Selection,
    Strategy,
    Uniform,
    Violator,
    Weighted,
    class_weights,
    exact_detection,
)
from detente.analysis.sites import Site
from detente.errors import ConfigError

#: Site kinds that can hold ground-launched missiles: what the 2022 visits were about.
GROUND_LAUNCHED_KINDS = ("missile-brigade", "storage", "test-site", "production", "training")

#: Illustrative suspicion by kind: brigades reported with 9M729 battalions first, then the places
#: missiles are kept or tried. Used as the weighted draw's weights and the challenge prior.
DEFAULT_CLASS_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("missile-brigade", 3.0), ("test-site", 2.0), ("storage", 2.0), ("production", 1.0), ("training", 1.0),
)


@dataclass(frozen=True)
class Settings:
    scenario: str | None = None
    party: str = "RU"  # the inspected party: whose sites are drawn
    kinds: tuple[str, ...] = GROUND_LAUNCHED_KINDS
    violating: int = 1
    detect_prob: float = 1.0
    periods: int = 1
    class_weights: tuple[tuple[str, float], ...] = DEFAULT_CLASS_WEIGHTS
    trials: int = 20_000  # Monte Carlo trials per point; 0 skips the check
    seed: int = 2022
    #: A quota on the table to mark on the plot (e.g. 2, "2022 offer: two bases"), if any.
    offered_quota: int | None = None
    offered_label: str = ""

    def to_json(self) -> dict[str, object]:
        return {"scenario": self.scenario, "party": self.party, "kinds": list(self.kinds),
                "violating": self.violating, "detect_prob": self.detect_prob, "periods": self.periods,
                "class_weights": dict(self.class_weights), "trials": self.trials, "seed": self.seed,
                "offered_quota": self.offered_quota, "offered_label": self.offered_label}


@dataclass(frozen=True)
class Curve:
    """One regime's detection probability at quotas 1…N."""

    key: str
    label: str
    violator: str
    exact: tuple[float, ...]
    monte_carlo: tuple[Estimate, ...] = ()

    def quota_for(self, target: float) -> int | None:
        """The smallest quota reaching `target`, or None if none does."""
        return next((q + 1 for q, p in enumerate(self.exact) if p >= target - 1e-12), None)

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, "label": self.label, "violator": self.violator, "exact": list(self.exact),
                "monte_carlo": [e.to_json() for e in self.monte_carlo],
                "quota_for_50": self.quota_for(0.5), "quota_for_90": self.quota_for(0.9)}


@dataclass(frozen=True)
class ComparisonResult:
    settings: Settings
    site_ids: tuple[str, ...]
    site_kinds: tuple[str, ...]
    curves: tuple[Curve, ...]
    files: tuple[tuple[str, str], ...] = field(default=())  # (what, path) once written

    @property
    def quotas(self) -> tuple[int, ...]:
        return tuple(range(1, len(self.site_ids) + 1))

    def with_files(self, files: Mapping[str, str]) -> ComparisonResult:
        return replace(self, files=tuple(files.items()))

    def to_json(self) -> dict[str, object]:
        return {"settings": self.settings.to_json(), "sites": len(self.site_ids),
                "site_ids": list(self.site_ids), "site_kinds": list(self.site_kinds),
                "quotas": list(self.quotas), "regimes": [c.to_json() for c in self.curves],
                "files": dict(self.files)}


def inspected_sites(sites: Sequence[Site], party: str, kinds: Sequence[str]) -> tuple[Site, ...]:
    chosen = tuple(s for s in sites if s.owner == party and s.kind in kinds)
    if not chosen:
        owners = sorted({s.owner for s in sites})
        raise ConfigError(f"no sites owned by {party!r} of kinds {', '.join(kinds)}; owners in the list: "
                          f"{', '.join(owners) or 'none'} (choose another party or more kinds)")
    return chosen


def _regimes(classes: tuple[str, ...], weights: tuple[float, ...], quota: int, s: Settings) -> list[
        tuple[str, str, str, Selection, Violator]]:
    preference = tuple(sorted(range(len(classes)), key=lambda i: (-weights[i], i)))
    k = s.violating
    return [
        ("unilateral", "Unilateral choice (strategic host)", "hides at the sites the inspector will not pick",
         Fixed(quota, preference), Violator(k, Strategy.LEAST_INSPECTED)),
        ("joint-uniform", "Joint random draw (uniform)", "is anywhere (a uniform draw gives no site away)",
         Uniform(quota), Violator(k, Strategy.LEAST_INSPECTED)),
        ("joint-weighted", "Joint random draw (class-weighted)", "hides in the least-weighted class",
         Weighted(quota, weights), Violator(k, Strategy.LEAST_INSPECTED)),
        ("challenge", "Challenge quota (prior right)", "is where the inspector's prior says",
         Fixed(quota, preference), Violator(k, Strategy.PRIOR, belief=weights)),
    ]


def compare_regimes(sites: Sequence[Site], settings: Settings | None = None) -> ComparisonResult:
    """Detection probability against quota for each regime on `sites` (exact, and Monte Carlo)."""
    s = settings or Settings()
    checks.probability("detect_prob", s.detect_prob)
    checks.count("periods", s.periods, low=1)
    checks.count("trials", s.trials)
    chosen = inspected_sites(sites, s.party, s.kinds)
    checks.count("violating", s.violating, low=1, high=len(chosen),
                 hint=f" ({len(chosen)} {s.party} sites of the chosen kinds)")
    classes = tuple(x.kind for x in chosen)
    weights = checks.weights("class_weights", class_weights(classes, dict(s.class_weights)))
    rows: dict[str, list[tuple[float, Estimate | None]]] = {}
    meta: dict[str, tuple[str, str]] = {}
    for quota in range(1, len(chosen) + 1):
        for i, (key, label, how, sel, vio) in enumerate(_regimes(classes, weights, quota, s)):
            regime = Regime(classes, sel, s.detect_prob, s.periods)
            exact = exact_detection(regime, vio)
            seed = np.random.SeedSequence([s.seed, quota, i])
            est = simulate(regime, vio, s.trials, seed=seed) if s.trials else None
            rows.setdefault(key, []).append((exact, est))
            meta[key] = (label, how)
    curves = tuple(
        Curve(key, meta[key][0], meta[key][1], tuple(p for p, _ in pts),
              tuple(e for _, e in pts if e is not None))
        for key, pts in rows.items()
    )
    return ComparisonResult(s, tuple(x.id for x in chosen), classes, curves)
