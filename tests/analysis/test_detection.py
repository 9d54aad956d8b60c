"""Exact detection probability: against exact rational arithmetic, scipy.stats and published examples."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from detente.analysis.detection import (
    Stratum,
    challenge_detection_probability,
    count_vectors,
    detection_probability,
    fixed_choice_detection_probability,
    hypergeom_logpmf,
    miss_probability,
    stratified_detection_probability,
    successive_miss,
    weighted_detection_probability,
)
from detente.errors import ConfigError


def exact_miss(n_sites: int, k: int, n: int, p: Fraction) -> Fraction:
    """Σ_j C(k, j)·C(N−k, n−j)/C(N, n)·(1−p)^j in rational arithmetic: the definition, no numerics."""
    total = math.comb(n_sites, n)
    return sum((Fraction(math.comb(k, j) * math.comb(n_sites - k, n - j), total) * (1 - p) ** j
                for j in range(min(n, k) + 1)), Fraction(0))


@st.composite
def populations(draw: st.DrawFn, max_sites: int = 60) -> tuple[int, int, int]:
    n_sites = draw(st.integers(1, max_sites))
    return n_sites, draw(st.integers(0, n_sites)), draw(st.integers(0, n_sites))


@given(populations(), st.fractions(0, 1, max_denominator=20), st.integers(1, 4))
@settings(max_examples=300, deadline=None)
def test_equals_the_definition_in_exact_arithmetic(
    pop: tuple[int, int, int], p: Fraction, periods: int,
) -> None:
    n_sites, k, n = pop
    want = 1 - exact_miss(n_sites, k, n, p) ** periods
    got = detection_probability(n_sites, k, n, float(p), periods)
    assert got == pytest.approx(float(want), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("n_sites", "k", "n", "p"), [
    (100, 5, 10, 1.0), (1000, 20, 150, 0.95), (10_000, 3, 2_500, 0.5), (50, 30, 40, 0.3),
    (200_000, 1_000, 5_000, 0.9), (1_000_000, 10, 100_000, 1.0), (1_000_000, 500_000, 600_000, 0.5),
])
def test_agrees_with_scipy_hypergeom(n_sites: int, k: int, n: int, p: float) -> None:
    j = np.arange(0, min(n, k) + 1)
    rv = stats.hypergeom(n_sites, k, n)
    want = float(np.sum(rv.pmf(j) * -np.expm1(j * np.log1p(-p)))) if p < 1 else float(rv.sf(0))
    assert detection_probability(n_sites, k, n, p) == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_logpmf_matches_scipy_over_the_support() -> None:
    for n_sites, k, n in [(50, 30, 40), (1000, 7, 300), (10, 10, 3), (10, 0, 3), (40_000, 900, 2_000)]:
        j, logpmf = hypergeom_logpmf(n_sites, k, n)
        assert j[0] == max(0, n + k - n_sites)
        assert j[-1] == min(n, k)
        np.testing.assert_allclose(logpmf, stats.hypergeom(n_sites, k, n).logpmf(j), rtol=1e-9, atol=1e-9)
        assert math.fsum(np.exp(logpmf)) == pytest.approx(1.0, abs=1e-12)


def test_published_example_100_chips_5_defective_10_tested() -> None:
    """Published worked example: a batch of 100 chips with 5 defective, 10 tested at random;
    P(detect) 41.6%, P(miss) 58.4% ("Batch inspection", https://math.growingswe.com/lessons/quality-control)."""
    assert round(detection_probability(100, 5, 10), 3) == 0.416
    assert round(miss_probability(100, 5, 10), 3) == 0.584


def test_published_example_consignment_accepted() -> None:
    """Published worked example: a consignment of N = 100 with m = 5 defective, n = 15 checked, is
    accepted (no defective found) with probability 0.435683324407506 (S. Polishchuk, "Consignment
    with defective part", https://kotoblog.pp.ua/probability-theory/Tasks/consignment_with_defective_part).

    The published figure, from a ratio of two large floating-point binomials, is right to 13
    digits; the exact rational C(95, 15)/C(100, 15) = 0.43568332440755121… is what we return."""
    assert miss_probability(100, 5, 15) == pytest.approx(0.435683324407506, abs=1e-13)
    assert miss_probability(100, 5, 15) == float(Fraction(math.comb(95, 15), math.comb(100, 15)))


def test_edge_cases() -> None:
    assert detection_probability(10, 0, 10) == 0.0          # nothing to find
    assert detection_probability(10, 3, 0) == 0.0           # nobody looks
    assert detection_probability(10, 3, 8) == 1.0           # n > N − k: a violation must be drawn
    assert detection_probability(10, 3, 5, detect_prob=0.0) == 0.0
    assert detection_probability(1, 1, 1, detect_prob=0.25, periods=2) == pytest.approx(1 - 0.75**2)
    # tiny probabilities keep their relative precision (1 − miss would round them away)
    assert detection_probability(10**6, 1, 1, 1e-9) == pytest.approx(1e-15, rel=1e-9)


@given(populations(), st.floats(0, 1), st.integers(1, 5))
@settings(max_examples=200, deadline=None)
def test_monotone_in_inspections_violations_and_periods(pop: tuple[int, int, int], p: float, t: int) -> None:
    n_sites, k, n = pop
    base = detection_probability(n_sites, k, n, p, t)
    assert 0.0 <= base <= 1.0
    if n < n_sites:
        assert detection_probability(n_sites, k, n + 1, p, t) >= base - 1e-12
    if k < n_sites:
        assert detection_probability(n_sites, k + 1, n, p, t) >= base - 1e-12
    assert detection_probability(n_sites, k, n, p, t + 1) >= base - 1e-12


@pytest.mark.parametrize(("args", "needle"), [
    ((10, 11, 1), "violating is 11"),
    ((10, 2, 11), "inspections is 11"),
    ((0, 0, 0), "sites is 0"),
    ((10, -1, 1), "violating is -1"),
    ((10, 2, 1, 1.5), "detect_prob is 1.5"),
    ((10, 2, 1, float("nan")), "detect_prob must be a number"),
    ((10, 2, 1, 1.0, 0), "periods is 0"),
    ((10, True, 1), "whole number"),
])
def test_bad_input_is_refused_with_what_to_change(args: tuple[object, ...], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        detection_probability(*args)  # type: ignore[arg-type]


# -- strata, weighted draws, fixed lists, challenges ----------------------------------------------


def test_stratified_is_the_product_of_independent_strata() -> None:
    strata = [Stratum(20, 2, 5, "brigades"), Stratum(10, 1, 2, "storage"), Stratum(5, 0, 1, "test")]
    miss = math.prod(float(exact_miss(s.sites, s.violating, s.inspections, Fraction(4, 5))) for s in strata)
    assert stratified_detection_probability(strata, 0.8) == pytest.approx(1 - miss, rel=1e-12)
    assert stratified_detection_probability(strata, 0.8, periods=3) == pytest.approx(1 - miss**3, rel=1e-12)
    one = Stratum(30, 4, 7)
    assert stratified_detection_probability([one]) == pytest.approx(detection_probability(30, 4, 7))
    with pytest.raises(ConfigError, match="no strata"):
        stratified_detection_probability([])


@given(populations(max_sites=25), st.floats(0, 1), st.floats(0.1, 10))
@settings(max_examples=100, deadline=None)
def test_weighted_draw_with_equal_weights_is_hypergeometric(
    pop: tuple[int, int, int], p: float, w: float,
) -> None:
    n_sites, k, n = pop
    marked = [i < k for i in range(n_sites)]
    assert successive_miss([w] * n_sites, marked, n, p) == pytest.approx(
        miss_probability(n_sites, k, n, p), rel=1e-9, abs=1e-12)


def brute_successive_miss(weights: list[float], marked: list[bool], draws: int, p: float) -> float:
    """Sum over every ordered sequence of draws: the definition of successive sampling."""
    def rec(left: frozenset[int], d: int) -> float:
        if d == 0:
            return 1.0
        total = sum(weights[i] for i in left)
        return sum(weights[i] / total * ((1 - p) if marked[i] else 1.0) * rec(left - {i}, d - 1)
                   for i in left)
    return rec(frozenset(range(len(weights))), draws)


@given(st.lists(st.sampled_from([1.0, 2.0, 3.5]), min_size=1, max_size=7), st.data(), st.floats(0, 1))
@settings(max_examples=80, deadline=None)
def test_weighted_recursion_equals_brute_force(weights: list[float], data: st.DataObject, p: float) -> None:
    marked = data.draw(st.lists(st.booleans(), min_size=len(weights), max_size=len(weights)))
    draws = data.draw(st.integers(0, len(weights)))
    assert successive_miss(weights, marked, draws, p) == pytest.approx(
        brute_successive_miss(weights, marked, draws, p), rel=1e-9, abs=1e-12)


def test_weighted_draw_worked_by_hand() -> None:
    """Weights (3, 1, 1), site 0 violating, 1 draw: found with 3/5. With 2 draws the violating site
    is missed only if the two light sites come first: (1/5)(1/4) + (1/5)(1/4) = 1/10."""
    heavy_violates = [True, False, False]
    assert weighted_detection_probability([3, 1, 1], heavy_violates, 1) == pytest.approx(3 / 5)
    assert weighted_detection_probability([3, 1, 1], heavy_violates, 2) == pytest.approx(9 / 10)
    assert weighted_detection_probability([3, 1, 1], heavy_violates, 2, periods=2) == pytest.approx(0.99)


def test_weighted_refusals() -> None:
    with pytest.raises(ConfigError, match="greater than 0"):
        successive_miss([1.0, 0.0], [True, False], 1)
    with pytest.raises(ConfigError, match="one mark per site"):
        successive_miss([1.0, 2.0], [True], 1)
    with pytest.raises(ConfigError, match="Monte Carlo"):
        successive_miss([float(i + 1) for i in range(40)], [i % 2 == 0 for i in range(40)], 5)


def test_fixed_choice_finds_only_what_is_on_the_list() -> None:
    chosen = [True, True, False, False]
    assert fixed_choice_detection_probability(chosen, [False, False, True, True]) == 0.0
    assert fixed_choice_detection_probability(chosen, [True, False, True, False], 0.5) == 0.5
    assert fixed_choice_detection_probability(chosen, [True, True, False, False], 0.5, 2) == pytest.approx(
        1 - 0.5**4)


def test_challenge_with_a_right_prior() -> None:
    """Prior (4, 3, 2, 1), one violation placed by the prior: challenging the top two finds it with
    (4 + 3)/10; a uniform prior gives the hypergeometric answer."""
    assert challenge_detection_probability([4, 3, 2, 1], 2) == pytest.approx(0.7)
    assert challenge_detection_probability([4, 3, 2, 1], 2, detect_prob=0.5) == pytest.approx(0.35)
    uniform = challenge_detection_probability([1] * 9, 3, violating=2)
    assert uniform == pytest.approx(detection_probability(9, 2, 3))


def test_count_vectors_enumerates_every_split() -> None:
    got = list(count_vectors([2, 1, 3], 3))
    assert len(got) == len(set(got))
    assert all(sum(x) == 3 and all(0 <= a <= b for a, b in zip(x, [2, 1, 3], strict=True)) for x in got)
    # Vandermonde: Σ Π C(s_g, x_g) = C(Σ s_g, total)
    ways = sum(math.prod(math.comb(s, x) for s, x in zip([2, 1, 3], v, strict=True)) for v in got)
    assert ways == math.comb(6, 3)
    assert list(count_vectors([], 0)) == [()]
