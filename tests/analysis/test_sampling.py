"""Sample-size planning: minimal, matching published figures, and beside the attribute-sampling rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.analysis.detection import detection_probability
from detente.analysis.sampling import attribute_approximation, sample_size
from detente.errors import ConfigError


def test_published_audit_sample_size() -> None:
    """Published worked example: an attribute sample from a population of 100,000 with 5,000
    deviations, accepting on zero deviations found at risk α = 0.10, needs 45 items (FSaudit,
    tests/testthat/test-attHyper.R: `sizeHyper(.1, 5000, 100000, 0) == 45`,
    https://github.com/LuHoo/FSaudit)."""
    plan = sample_size(100_000, 5_000, 0.9)
    assert plan.inspections == 45
    assert plan.achieved >= 0.9 > detection_probability(100_000, 5_000, 44)


def test_approximation_is_the_iaea_formula() -> None:
    """n ≈ N(1 − β^(1/k)): N = 100, k = 10, 1 − β = 0.95 gives 100(1 − 0.05^0.1) = 25.89."""
    assert attribute_approximation(100, 10, 0.95) == pytest.approx(100 * (1 - 0.05**0.1))
    assert attribute_approximation(100, 10, 0.95) == pytest.approx(25.886, abs=1e-3)
    # imperfect detection and several periods: n ≈ N(1 − β^(1/(kT)))/p
    assert attribute_approximation(100, 10, 0.95, 0.5, 2) == pytest.approx(100 * (1 - 0.05 ** (1 / 20)) / 0.5)


@pytest.mark.parametrize("n_sites", [10, 50, 100, 500, 1_000, 5_000, 10_000])
@pytest.mark.parametrize("beta", [0.05, 0.1, 0.2, 0.5])
def test_exact_is_at_most_three_below_the_iaea_formula(n_sites: int, beta: float) -> None:
    """Published result: over safeguards-relevant cases the exact sample size lies in
    {n_IAEA − 3, …, n_IAEA}, n_IAEA being the formula rounded up (INMM, "an alternative sample size
    calculation based on the exact formula for the non-selection probability",
    https://staging-resources.inmm.org/node/58924). It is never above: sampling without replacement
    misses less often than (1 − n/N)^k."""
    for k in sorted({1, 2, 5, 10, 20, n_sites // 20, n_sites // 10} - {0}):
        if k > n_sites:
            continue
        exact = sample_size(n_sites, k, 1 - beta).inspections
        iaea = math.ceil(attribute_approximation(n_sites, k, 1 - beta) - 1e-9)
        assert iaea - 3 <= exact <= iaea, (n_sites, k, beta, exact, iaea)


@st.composite
def plans(draw: st.DrawFn) -> tuple[int, int, float, float, int]:
    n_sites = draw(st.integers(1, 400))
    k = draw(st.integers(1, n_sites))
    p = draw(st.sampled_from([1.0, 0.9, 0.5]))
    t = draw(st.integers(1, 3))
    reachable = detection_probability(n_sites, k, n_sites, p, t)
    target = draw(st.floats(0.01, 1.0)) * reachable
    return n_sites, k, max(target, 1e-6), p, t


@given(plans())
@settings(max_examples=150, deadline=None)
def test_smallest_number_reaching_the_target(case: tuple[int, int, float, float, int]) -> None:
    n_sites, k, target, p, t = case
    plan = sample_size(n_sites, k, target, p, t)
    assert detection_probability(n_sites, k, plan.inspections, p, t) >= target
    assert plan.inspections == 0 or detection_probability(n_sites, k, plan.inspections - 1, p, t) < target
    assert plan.to_json()["inspections"] == plan.inspections


def test_unreachable_target_says_what_is_reachable() -> None:
    with pytest.raises(ConfigError, match=r"out of reach.*0\.96875.*lower the target"):
        sample_size(100, 5, 0.99, detect_prob=0.5)
    assert sample_size(100, 5, 0.99, detect_prob=0.5, periods=2).inspections <= 100


@pytest.mark.parametrize(("args", "needle"), [
    ((100, 0, 0.9), "violating is 0"),
    ((100, 101, 0.9), "violating is 101"),
    ((100, 5, 0.0), r"target is 0.0; it must lie in \(0, 1\]"),
    ((100, 5, 1.2), "target is 1.2"),
    ((100, 5, 0.9, 0.0), "detect_prob is 0.0"),
])
def test_bad_input(args: tuple[object, ...], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        sample_size(*args)  # type: ignore[arg-type]


def test_certainty_needs_all_but_k_minus_one_sites() -> None:
    assert sample_size(30, 4, 1.0).inspections == 27
