"""Exact probability that an inspection regime finds at least one violation.

Plain computation, no I/O. The core is the hypergeometric law: n inspections drawn without
replacement among N sites of which k are in violation. Each inspected violating site is found with
probability p (instruments and access are imperfect), periods draw afresh, strata draw
independently, and weighted ("probability proportional to weight", successive) draws are solved by
an exact recursion over how many sites of each weight have been drawn. docs/analysis.md gives the
formulas and their sources.

Numerics: the hypergeometric probabilities are built from the first term of the support and the
ratio of successive terms, all in logarithms, so N = 10⁶ costs one vectorised pass and no
factorials overflow; detection probabilities are summed from non-negative terms so that small
values keep their relative precision.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detente.analysis import checks
from detente.errors import ConfigError

FloatArray = npt.NDArray[np.float64]

#: States the weighted-draw recursion may visit before it refuses (use Monte Carlo beyond that).
MAX_DRAW_STATES = 2_000_000


def _log_avoid(sites: int, marked: int, drawn: int) -> float:
    """log P(a uniform draw of `drawn` sites misses all `marked` ones) = log C(N−a, b)/C(N, b).

    Uses C(N−a, b)/C(N, b) = Π_{i<min(a,b)} (1 − max(a,b)/(N−i)), symmetric in a and b, so the
    cost is the smaller of the two counts."""
    if marked + drawn > sites:
        return -math.inf
    s, m = min(marked, drawn), max(marked, drawn)
    if s == 0:
        return 0.0
    i = np.arange(s, dtype=np.float64)
    return float(np.log1p(-m / (sites - i)).sum())


def hypergeom_logpmf(
    sites: int, violating: int, inspections: int,
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """The support j = max(0, n+k−N) … min(n, k) and log P(X = j) for the number X of violating
    sites among the inspected ones."""
    checks.population(sites, violating, inspections)
    n, k, big_n = inspections, violating, sites
    lo, hi = max(0, n + k - big_n), min(n, k)
    j = np.arange(lo, hi + 1, dtype=np.int64)
    # First term: no violating site drawn (lo = 0), or, when n + k > N, every clean site drawn,
    # which is the uninspected N − n sites all being violating: the same "avoid" form, mirrored.
    first = _log_avoid(big_n, k, n) if lo == 0 else _log_avoid(big_n, big_n - k, big_n - n)
    if hi == lo:
        return j, np.array([first])
    jj = j[:-1].astype(np.float64)
    ratio = (np.log(k - jj) + np.log(n - jj)) - (np.log(jj + 1.0) + np.log(big_n - k - n + jj + 1.0))
    logpmf = np.empty(j.size, dtype=np.float64)
    logpmf[0] = first
    np.cumsum(ratio, out=logpmf[1:])
    logpmf[1:] += first
    return j, logpmf


def _detect_and_miss(sites: int, violating: int, inspections: int, detect_prob: float) -> tuple[float, float]:
    """(P(detect), P(miss)) for one period, each summed from non-negative terms."""
    checks.population(sites, violating, inspections)
    p = checks.probability("detect_prob", detect_prob)
    if violating == 0 or inspections == 0 or p == 0.0:
        return 0.0, 1.0
    if p == 1.0:
        log_miss = _log_avoid(sites, violating, inspections)
        miss = math.exp(log_miss)
        return -math.expm1(log_miss), miss
    j, logpmf = hypergeom_logpmf(sites, violating, inspections)
    pmf = np.exp(logpmf)
    log_q = math.log1p(-p)
    jf = j.astype(np.float64)
    detect = float(np.sum(pmf * -np.expm1(jf * log_q)))
    miss = float(np.sum(pmf * np.exp(jf * log_q)))
    return detect, miss


def _over_periods(detect: float, miss: float, periods: int) -> float:
    """1 − miss^T, computed from whichever of detect/miss is the more precise."""
    checks.count("periods", periods, low=1)
    if miss <= 0.0:
        return 1.0
    log_miss = math.log1p(-detect) if detect < 0.5 else math.log(miss)
    return min(1.0, max(0.0, -math.expm1(periods * log_miss)))


def detection_probability(
    sites: int, violating: int, inspections: int, detect_prob: float = 1.0, periods: int = 1,
) -> float:
    """P(at least one violation found) when each of `periods` periods draws `inspections` of
    `sites` uniformly without replacement, `violating` sites are in violation throughout, and an
    inspected violating site is found with probability `detect_prob`.

    Periods draw independently, so the miss probability is the one-period miss to the power T."""
    detect, miss = _detect_and_miss(sites, violating, inspections, detect_prob)
    return _over_periods(detect, miss, periods)


def miss_probability(sites: int, violating: int, inspections: int, detect_prob: float = 1.0) -> float:
    """β = 1 − detection probability for one period (the IAEA's non-detection probability)."""
    return _detect_and_miss(sites, violating, inspections, detect_prob)[1]


@dataclass(frozen=True)
class Stratum:
    """One class of sites drawn on its own: N_h sites, k_h violating, n_h inspections."""

    sites: int
    violating: int
    inspections: int
    label: str = ""


def stratified_detection_probability(
    strata: Sequence[Stratum], detect_prob: float = 1.0, periods: int = 1,
) -> float:
    """Strata are drawn independently, so the regime misses only if every stratum misses."""
    if not strata:
        raise ConfigError("no strata given; give at least one class of sites")
    log_miss = 0.0
    for s in strata:
        _, miss = _detect_and_miss(s.sites, s.violating, s.inspections, detect_prob)
        if miss == 0.0:
            return 1.0
        log_miss += math.log(miss)
    checks.count("periods", periods, low=1)
    return min(1.0, max(0.0, -math.expm1(periods * log_miss)))


def successive_miss(
    weights: Sequence[float], marked: Sequence[bool], draws: int, detect_prob: float = 1.0,
) -> float:
    """E[(1 − p)^X] where X counts marked items among `draws` items drawn one at a time without
    replacement, each with probability proportional to its weight among those left.

    With p = 1 this is the probability that no marked item is drawn. It answers two questions:
    a weighted inspection draw (items = sites, marked = violating) and a challenge guided by a
    prior (items = the violator's placement drawn from the prior, marked = challenged sites).

    Exact: items of equal weight and mark are exchangeable, so the state is how many of each
    group have been drawn; the recursion visits at most Π(c_g + 1) states."""
    w = checks.weights("weights", weights)
    if len(marked) != len(w):
        raise ConfigError(f"{len(marked)} marks for {len(w)} weights; give one mark per site")
    checks.count("draws", draws, high=len(w), hint=f" (there are {len(w)} sites to draw from)")
    q = 1.0 - checks.probability("detect_prob", detect_prob)
    groups: dict[tuple[float, bool], int] = {}
    for wi, mi in zip(w, marked, strict=True):
        groups[(wi, bool(mi))] = groups.get((wi, bool(mi)), 0) + 1
    keys = list(groups)
    sizes = [groups[g] for g in keys]
    gw = [g[0] for g in keys]
    gq = [q if g[1] else 1.0 for g in keys]
    states = math.prod(c + 1 for c in sizes)
    if states > MAX_DRAW_STATES:
        raise ConfigError(
            f"an exact weighted draw over {len(keys)} distinct (weight, status) groups needs "
            f"{states:,} states; use fewer distinct weights, or estimate it with Monte Carlo"
        )
    level: dict[tuple[int, ...], float] = {tuple(0 for _ in keys): 1.0}
    for _ in range(draws):
        nxt: dict[tuple[int, ...], float] = {}
        for state, mass in level.items():
            left = [c - s for c, s in zip(sizes, state, strict=True)]
            total = math.fsum(n * wg for n, wg in zip(left, gw, strict=True))
            for g, n in enumerate(left):
                if n == 0 or gq[g] == 0.0:
                    continue
                to = (*state[:g], state[g] + 1, *state[g + 1:])
                nxt[to] = nxt.get(to, 0.0) + mass * gq[g] * n * gw[g] / total
        level = nxt
        if not level:
            return 0.0
    return min(1.0, math.fsum(level.values()))


def weighted_detection_probability(
    weights: Sequence[float], violating: Sequence[bool], inspections: int, detect_prob: float = 1.0,
    periods: int = 1,
) -> float:
    """Inspections drawn proportionally to `weights` (successive sampling) against a known set of
    violating sites; periods draw afresh."""
    miss = successive_miss(weights, violating, inspections, detect_prob)
    return 1.0 - miss ** checks.count("periods", periods, low=1)


def fixed_choice_detection_probability(
    chosen: Sequence[bool], violating: Sequence[bool], detect_prob: float = 1.0, periods: int = 1,
) -> float:
    """A choice known in advance (the inspector's announced or predictable list): only violating
    sites on the list can be found, and the same list is visited every period."""
    if len(chosen) != len(violating):
        raise ConfigError(f"{len(chosen)} choices for {len(violating)} sites; give one per site")
    p = checks.probability("detect_prob", detect_prob)
    t = checks.count("periods", periods, low=1)
    hits = sum(1 for c, v in zip(chosen, violating, strict=True) if c and v)
    return -math.expm1(hits * t * math.log1p(-p)) if p < 1.0 else (1.0 if hits else 0.0)


def challenge_detection_probability(
    prior: Sequence[float], inspections: int, violating: int = 1, detect_prob: float = 1.0,
) -> float:
    """Challenge inspections at the `inspections` sites the prior ranks highest, against `violating`
    sites placed where the prior says they are (successively, proportionally to the prior).

    This is the best case for a challenge regime: the prior is right and the violator does not
    adapt to it. A violator who knows the prior hides at the sites ranked lowest, which is the
    unilateral-choice case (`fixed_choice_detection_probability`)."""
    w = checks.weights("prior", prior)
    checks.count("inspections", inspections, high=len(w))
    checks.count("violating", violating, high=len(w))
    order = sorted(range(len(w)), key=lambda i: (-w[i], i))
    challenged = set(order[:inspections])
    return 1.0 - successive_miss(w, [i in challenged for i in range(len(w))], violating, detect_prob)


def count_vectors(sizes: Sequence[int], total: int) -> Iterator[tuple[int, ...]]:
    """Every (x_1, …, x_G) with 0 ≤ x_g ≤ sizes[g] and Σ x_g = total."""
    if not sizes:
        if total == 0:
            yield ()
        return
    if len(sizes) == 1:
        if total <= sizes[0]:
            yield (total,)
        return
    for x in range(min(sizes[0], total) + 1):
        for rest in count_vectors(sizes[1:], total - x):
            yield (x, *rest)
