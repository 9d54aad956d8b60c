"""Sample-size planning: the fewest inspections that reach a target detection probability.

The exact answer searches the hypergeometric detection probability (monotone in n) by bisection.
Beside it we report the attribute-sampling approximation used throughout safeguards practice,
n ≈ N(1 − β^(1/k)), generalised here to imperfect detection and several periods as
n ≈ N(1 − β^(1/(kT)))/p, so a reader can see how far the rule of thumb is from the exact count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from detente.analysis import checks
from detente.analysis.detection import detection_probability
from detente.errors import ConfigError


@dataclass(frozen=True)
class SamplePlan:
    """The exact minimum, what it achieves, and the approximation beside it."""

    sites: int
    violating: int
    target: float
    detect_prob: float
    periods: int
    inspections: int
    achieved: float
    approximation: float

    def to_json(self) -> dict[str, object]:
        return {
            "inspections": self.inspections, "approximation": self.approximation,
            "approximation_inspections": math.ceil(self.approximation - 1e-9),
            "achieved": self.achieved, "sites": self.sites, "violating": self.violating,
            "target": self.target, "detect_prob": self.detect_prob, "periods": self.periods,
        }


def attribute_approximation(
    sites: int, violating: int, target: float, detect_prob: float = 1.0, periods: int = 1,
) -> float:
    """n ≈ N(1 − β^(1/(kT)))/p with β = 1 − target: each violating site treated as caught
    independently with probability p·n/N per period (sampling with replacement). With p = 1 and
    T = 1 this is the IAEA attribute-sampling formula."""
    beta = 1.0 - target
    if beta <= 0.0:
        return float(sites)
    return sites * -math.expm1(math.log(beta) / (violating * periods)) / detect_prob


def sample_size(
    sites: int, violating: int, target: float, detect_prob: float = 1.0, periods: int = 1,
) -> SamplePlan:
    """The smallest n with P(detect) ≥ target; refuses targets no number of inspections reaches."""
    checks.count("sites", sites, low=1)
    checks.count("violating", violating, low=1, high=sites,
                 hint=f" (there are {sites} sites; with none violating there is nothing to find)")
    target = checks.probability("target", target, open_low=True)
    p = checks.probability("detect_prob", detect_prob, open_low=True)
    checks.count("periods", periods, low=1)
    best = detection_probability(sites, violating, sites, p, periods)
    if best < target:
        raise ConfigError(
            f"target {target} is out of reach: inspecting all {sites} sites finds a violation with "
            f"probability {best:.6g} (detect_prob {p}, {periods} period(s)); lower the target, or "
            "raise detect_prob or the number of periods"
        )
    lo, hi = 0, sites  # P(lo) < target ≤ P(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if detection_probability(sites, violating, mid, p, periods) >= target:
            hi = mid
        else:
            lo = mid
    return SamplePlan(
        sites=sites, violating=violating, target=target, detect_prob=p, periods=periods,
        inspections=hi, achieved=detection_probability(sites, violating, hi, p, periods),
        approximation=attribute_approximation(sites, violating, target, p, periods),
    )
