"""Regimes and violators as plain data, and the exact detection probability of one against the other.

A regime is how inspected sites are chosen each period (a uniform joint draw, a stratified draw by
site class, a draw weighted by class, or a fixed choice the other side can predict), how reliable an
inspection is, how many periods the horizon holds, and how much notice the host gets. A violator is
how many sites it uses and where it puts them: at random, at the sites the regime inspects least
(it knows the regime), or at the sites it *believes* are least likely to be drawn (it may be wrong);
it may also move items out of a notified site if the notice outlasts the move.

`exact_detection` is the closed-form or exact-recursion answer for every such pair; the Monte
Carlo simulator (montecarlo.py) draws the same game site by site and must agree with it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from detente.analysis import checks
from detente.analysis.detection import (
    count_vectors,
    detection_probability,
    miss_probability,
    successive_miss,
)
from detente.errors import ConfigError

BoolArray = npt.NDArray[np.bool_]

#: Placements the exact random-placement sum may enumerate before it refuses.
MAX_PLACEMENT_TYPES = 200_000


@dataclass(frozen=True)
class Uniform:
    """A joint random draw: `inspections` sites uniformly without replacement, every period."""

    inspections: int


@dataclass(frozen=True)
class Stratified:
    """A fixed number of inspections per site class, each drawn uniformly within its class."""

    allocation: tuple[tuple[str, int], ...]  # (class, inspections)


@dataclass(frozen=True)
class Weighted:
    """`inspections` sites drawn one by one with probability proportional to the site's weight
    among those not yet drawn (successive sampling)."""

    inspections: int
    weights: tuple[float, ...]  # one per site


@dataclass(frozen=True)
class Fixed:
    """The inspector's own choice, which the host can predict: the first `inspections` sites of
    its preference order, every period."""

    inspections: int
    preference: tuple[int, ...]  # site indices, most preferred first


Selection = Uniform | Stratified | Weighted | Fixed


@dataclass(frozen=True)
class Regime:
    """What the host faces: the sites by class, how they are chosen each period, how good an
    inspection is, for how many periods, with how much warning."""

    classes: tuple[str, ...]  # the class (kind) of each site; its length is the number of sites
    selection: Selection
    detect_prob: float = 1.0  # P(an inspection of a violating site finds the violation)
    periods: int = 1          # inspection periods over the horizon (years × periods per year)
    notice_hours: float = 0.0  # warning the host gets between notification and arrival

    def __post_init__(self) -> None:
        n_sites = len(self.classes)
        checks.count("sites", n_sites, low=1)
        checks.probability("detect_prob", self.detect_prob)
        checks.count("periods", self.periods, low=1)
        checks.nonnegative("notice_hours", self.notice_hours)
        sel = self.selection
        if isinstance(sel, Uniform | Weighted | Fixed):
            checks.count("inspections", sel.inspections, high=n_sites)
        if isinstance(sel, Weighted):
            if len(sel.weights) != n_sites:
                raise ConfigError(f"{len(sel.weights)} weights for {n_sites} sites; give one per site")
            checks.weights("weights", sel.weights)
        if isinstance(sel, Fixed) and sorted(sel.preference) != list(range(n_sites)):
            raise ConfigError("the preference order must list every site index exactly once")
        if isinstance(sel, Stratified):
            sizes = Counter(self.classes)
            named = [cls for cls, _ in sel.allocation]
            if len(set(named)) != len(named):
                raise ConfigError("the allocation names a class twice; give each class one count")
            for cls, n in sel.allocation:
                if cls not in sizes:
                    raise ConfigError(f"allocation names class {cls!r}, which has no sites; "
                                      f"classes are {', '.join(sorted(sizes))}")
                checks.count(f"inspections in class {cls!r}", n, high=sizes[cls])

    @property
    def sites(self) -> int:
        return len(self.classes)

    @property
    def inspections(self) -> int:
        """Distinct sites inspected per period."""
        sel = self.selection
        return sum(n for _, n in sel.allocation) if isinstance(sel, Stratified) else sel.inspections


class Strategy(StrEnum):
    RANDOM = "random"                        # anywhere, uniformly (a careless or unlucky violator)
    LEAST_INSPECTED = "least-inspected"      # where the regime inspects least (it knows the regime)
    BELIEVED_UNLIKELY = "believed-unlikely"  # where it believes inspection least likely
    PRIOR = "prior"  # drawn from `belief` as a prior (successively): the inspector's prior is right


@dataclass(frozen=True)
class Violator:
    violating: int
    strategy: Strategy = Strategy.RANDOM
    belief: tuple[float, ...] = field(default=())  # per-site weights for BELIEVED_UNLIKELY and PRIOR
    move_hours: float | None = None  # mean time to move items out of a notified site; None: cannot

    def __post_init__(self) -> None:
        checks.count("violating", self.violating)
        if self.move_hours is not None:
            checks.nonnegative("move_hours", self.move_hours, positive=True)
        if self.strategy in (Strategy.BELIEVED_UNLIKELY, Strategy.PRIOR) and not self.belief:
            raise ConfigError(f"a {self.strategy} violator needs `belief`: one weight per site")


def evasion_probability(notice_hours: float, move_hours: float | None) -> float:
    """P(the items are out before the inspectors arrive), with the time to move them exponential
    with mean `move_hours`: 1 − exp(−notice/move)."""
    if move_hours is None or notice_hours == 0.0:
        return 0.0
    return -math.expm1(-notice_hours / move_hours)


def effective_detect_prob(regime: Regime, violator: Violator) -> float:
    """An inspected violating site is found if the items are still there and the inspection works."""
    return regime.detect_prob * (1.0 - evasion_probability(regime.notice_hours, violator.move_hours))


def inspection_rank(regime: Regime) -> npt.NDArray[np.float64]:
    """A per-site number ordered like the site's chance of being inspected in a period: the
    inclusion probability for uniform, stratified and fixed draws, the weight for weighted draws
    (inclusion under successive sampling increases with weight)."""
    sel, n_sites = regime.selection, regime.sites
    if isinstance(sel, Uniform):
        return np.full(n_sites, sel.inspections / n_sites)
    if isinstance(sel, Weighted):
        return np.asarray(sel.weights, dtype=np.float64)
    if isinstance(sel, Fixed):
        out = np.zeros(n_sites)
        out[list(sel.preference[: sel.inspections])] = 1.0
        return out
    sizes = Counter(regime.classes)
    alloc = dict(sel.allocation)
    return np.array([alloc.get(c, 0) / sizes[c] for c in regime.classes])


def _belief(regime: Regime, violator: Violator) -> tuple[float, ...]:
    if len(violator.belief) != regime.sites:
        raise ConfigError(
            f"{len(violator.belief)} belief weights for {regime.sites} sites; give one per site")
    return checks.weights("belief", violator.belief)


def placement(regime: Regime, violator: Violator) -> BoolArray | None:
    """Where a deliberate violator puts its items (None for a random one): the `violating` sites
    with the lowest rank, ties broken by site order, so the exact answer and the simulator use
    the same sites."""
    checks.count("violating", violator.violating, high=regime.sites,
                 hint=f" (the regime covers {regime.sites} sites)")
    if violator.strategy is Strategy.PRIOR:
        _belief(regime, violator)
    if violator.strategy in (Strategy.RANDOM, Strategy.PRIOR):
        return None
    if violator.strategy is Strategy.LEAST_INSPECTED:
        rank = inspection_rank(regime)
    else:
        rank = np.asarray(_belief(regime, violator), dtype=np.float64)
    order = np.argsort(rank, kind="stable")
    mask = np.zeros(regime.sites, dtype=np.bool_)
    mask[order[: violator.violating]] = True
    return mask


def period_miss(regime: Regime, violating: BoolArray, detect_prob: float) -> float:
    """P(one period finds nothing) when the sites in `violating` are in violation."""
    sel = regime.selection
    k = int(violating.sum())
    if isinstance(sel, Uniform):
        return miss_probability(regime.sites, k, sel.inspections, detect_prob)
    if isinstance(sel, Weighted):
        return successive_miss(sel.weights, violating.tolist(), sel.inspections, detect_prob)
    if isinstance(sel, Fixed):
        hits = int(violating[list(sel.preference[: sel.inspections])].sum())
        return (1.0 - detect_prob) ** hits
    classes = np.asarray(regime.classes)
    miss = 1.0
    for cls, n in sel.allocation:
        in_cls = classes == cls
        miss *= miss_probability(int(in_cls.sum()), int(violating[in_cls].sum()), n, detect_prob)
    return miss


def _site_types(regime: Regime) -> list[object]:
    """A label per site such that sites with equal labels are interchangeable under the draw."""
    sel = regime.selection
    if isinstance(sel, Weighted):
        return list(sel.weights)
    if isinstance(sel, Fixed):
        return [float(x) for x in inspection_rank(regime)]
    if isinstance(sel, Stratified):
        return list(regime.classes)
    return [0] * regime.sites


def _random_placement(regime: Regime, violating: int, p: float) -> float:
    """E over a uniformly random placement of 1 − miss^T.

    One period (or a uniform draw, whose miss does not depend on where the violations are) is
    hypergeometric whatever the rule, since every rule inspects exactly n distinct sites. Several
    periods of a non-uniform rule share the placement, so we sum over how many violating sites
    fall in each group of interchangeable sites."""
    t = regime.periods
    if t == 1 or isinstance(regime.selection, Uniform):
        return detection_probability(regime.sites, violating, regime.inspections, p, t)
    types = _site_types(regime)
    labels = list(dict.fromkeys(types))
    members = [[i for i, x in enumerate(types) if x == lab] for lab in labels]
    sizes = [len(m) for m in members]
    if math.prod(s + 1 for s in sizes) > MAX_PLACEMENT_TYPES:
        raise ConfigError("too many groups of distinct sites for an exact sum over placements; "
                          "use fewer distinct weights or classes, or estimate it with Monte Carlo")
    total = math.comb(regime.sites, violating)
    expect = 0.0
    for xs in count_vectors(sizes, violating):
        mask = np.zeros(regime.sites, dtype=np.bool_)
        for m, x in zip(members, xs, strict=True):
            mask[m[:x]] = True
        weight = math.prod(math.comb(s, x) for s, x in zip(sizes, xs, strict=True)) / total
        expect += weight * period_miss(regime, mask, p) ** t
    return min(1.0, max(0.0, 1.0 - expect))


def exact_detection(regime: Regime, violator: Violator) -> float:
    """P(at least one violation found over the horizon)."""
    p = effective_detect_prob(regime, violator)
    mask = placement(regime, violator)
    if violator.strategy is Strategy.PRIOR:
        sel = regime.selection
        if not isinstance(sel, Fixed):
            raise ConfigError("the exact answer for a violator placed by a prior is known for a fixed "
                              "(challenge) list only; estimate other regimes with Monte Carlo")
        # The list is the same every period, so T periods find an inspected violation with 1−(1−p)^T.
        chosen = np.zeros(regime.sites, dtype=np.bool_)
        chosen[list(sel.preference[: sel.inspections])] = True
        per_site = -math.expm1(regime.periods * math.log1p(-p)) if p < 1.0 else 1.0
        return 1.0 - successive_miss(violator.belief, chosen.tolist(), violator.violating, per_site)
    if mask is None:
        return _random_placement(regime, violator.violating, p)
    miss = period_miss(regime, mask, p)
    return min(1.0, max(0.0, 1.0 - miss ** regime.periods))


def class_weights(
    classes: Sequence[str], by_class: Mapping[str, float], default: float = 1.0,
) -> tuple[float, ...]:
    """Per-site weights from per-class weights (classes not named get `default`)."""
    return tuple(float(by_class.get(c, default)) for c in classes)
