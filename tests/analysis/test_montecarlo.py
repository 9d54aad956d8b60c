"""The simulator against the exact formulas, and its samplers against their definitions.

Agreement is checked with a stated bound: a Monte Carlo estimate from R trials of a probability P
has standard error √(P(1−P)/R), and we require |estimate − P| ≤ 4.5 standard errors. For one
comparison a correct simulator fails this with probability about 7·10⁻⁶; over the ~50 comparisons
here, below 4·10⁻⁴. The seeds are fixed, so every run is the same run: a failure means the code
changed, not that the dice were unkind. Where P is 0 or 1 the estimate must equal it exactly.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from detente.analysis.detection import successive_miss
from detente.analysis.montecarlo import (
    Estimate,
    floyd_sample,
    process_pool,
    shuffle_sample,
    simulate,
    simulate_parallel,
    weighted_sample,
)
from detente.analysis.regime import (
    Fixed,
    Regime,
    Strategy,
    Stratified,
    Uniform,
    Violator,
    Weighted,
    class_weights,
    evasion_probability,
    exact_detection,
    placement,
)
from detente.errors import ConfigError

Z_BOUND = 4.5
TRIALS = 40_000
CLASSES = tuple(["brigade"] * 6 + ["storage"] * 4 + ["test"] * 2 + ["depot"] * 8)
WEIGHTS = class_weights(CLASSES, {"brigade": 3.0, "storage": 2.0, "test": 2.0})
BELIEF = tuple(float(20 - i) for i in range(20))  # the violator believes low-numbered sites are drawn

REGIMES = {
    "uniform": Regime(CLASSES, Uniform(4), detect_prob=0.8, periods=3),
    "stratified": Regime(CLASSES, Stratified((("brigade", 2), ("storage", 1), ("depot", 1))), 0.9, 2),
    "weighted": Regime(CLASSES, Weighted(5, WEIGHTS), detect_prob=0.9, periods=2, notice_hours=12.0),
    "fixed": Regime(CLASSES, Fixed(5, tuple(sorted(range(20), key=lambda i: -WEIGHTS[i]))), 0.7, 2),
}
VIOLATORS = {
    "random": Violator(2),
    "least-inspected": Violator(3, Strategy.LEAST_INSPECTED),
    "believed-unlikely": Violator(2, Strategy.BELIEVED_UNLIKELY, belief=BELIEF),
    "moves": Violator(2, Strategy.LEAST_INSPECTED, move_hours=24.0),
}


def assert_agrees(est: Estimate, exact: float) -> None:
    se = math.sqrt(exact * (1 - exact) / est.trials)
    if se == 0.0:
        assert est.probability == exact
    else:
        assert abs(est.probability - exact) <= Z_BOUND * se, (est.probability, exact, se)


@pytest.mark.parametrize("regime_name", list(REGIMES))
@pytest.mark.parametrize("violator_name", list(VIOLATORS))
def test_simulation_agrees_with_the_exact_answer(regime_name: str, violator_name: str) -> None:
    regime, violator = REGIMES[regime_name], VIOLATORS[violator_name]
    seed = sum(map(ord, regime_name + violator_name))
    est = simulate(regime, violator, TRIALS, seed=seed)
    assert est.trials == TRIALS
    assert est.site_draws == TRIALS * regime.periods * regime.inspections
    assert_agrees(est, exact_detection(regime, violator))


def test_random_placement_over_several_periods_of_a_weighted_draw() -> None:
    """The exact path that sums over placements (periods share the placement, the draw is not
    uniform), checked on one period of it by hand too: one period is hypergeometric."""
    regime = Regime(CLASSES, Weighted(3, WEIGHTS), detect_prob=1.0, periods=4)
    violator = Violator(3)
    assert_agrees(simulate(regime, violator, TRIALS, seed=11), exact_detection(regime, violator))
    one = Regime(CLASSES, Weighted(3, WEIGHTS), periods=1)
    assert exact_detection(one, violator) == pytest.approx(1 - math.comb(17, 3) / math.comb(20, 3))


def test_a_violator_placed_by_a_right_prior_against_a_challenge_list() -> None:
    regime = REGIMES["fixed"]
    violator = Violator(2, Strategy.PRIOR, belief=WEIGHTS)
    assert_agrees(simulate(regime, violator, TRIALS, seed=5), exact_detection(regime, violator))
    with pytest.raises(ConfigError, match="Monte Carlo"):
        exact_detection(REGIMES["uniform"], violator)


def test_the_strategies_order_as_expected() -> None:
    """Knowing the regime helps the violator; a uniform draw gives it nothing to know."""
    for name in ("stratified", "weighted", "fixed"):
        r = REGIMES[name]
        assert exact_detection(r, Violator(3, Strategy.LEAST_INSPECTED)) <= exact_detection(r, Violator(3))
    u = REGIMES["uniform"]
    knows = exact_detection(u, Violator(3, Strategy.LEAST_INSPECTED))
    assert knows == pytest.approx(exact_detection(u, Violator(3)))
    assert exact_detection(REGIMES["fixed"], Violator(3, Strategy.LEAST_INSPECTED)) == 0.0
    # moving items out during the notice period lowers detection; with no notice, nothing moves
    w = REGIMES["weighted"]
    assert exact_detection(w, VIOLATORS["moves"]) < exact_detection(w, Violator(2, Strategy.LEAST_INSPECTED))
    assert exact_detection(u, VIOLATORS["moves"]) == exact_detection(u, Violator(2, Strategy.LEAST_INSPECTED))


# -- samplers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("sampler", [floyd_sample, shuffle_sample])
def test_uniform_samplers_draw_every_subset_equally_often(sampler: object) -> None:
    rows, population, draws = 60_000, 6, 3
    idx = sampler(np.random.default_rng(7), rows, population, draws)  # type: ignore[operator]
    assert idx.shape == (rows, draws)
    assert idx.min() >= 0
    assert idx.max() < population
    srt = np.sort(idx, axis=1)
    assert (np.diff(srt, axis=1) > 0).all()  # distinct within each row
    subsets = {s: i for i, s in enumerate(itertools.combinations(range(population), draws))}
    counts = np.bincount([subsets[tuple(r)] for r in srt.tolist()], minlength=len(subsets))
    assert stats.chisquare(counts).pvalue > 1e-4


def test_weighted_sampler_matches_successive_sampling_inclusion() -> None:
    weights = np.array([4.0, 3.0, 2.0, 1.0, 1.0, 0.5])
    rows, draws = 80_000, 2
    idx = weighted_sample(np.random.default_rng(3), rows, weights, draws)
    freq = np.bincount(idx.ravel(), minlength=weights.size) / rows
    for i in range(weights.size):
        p = 1 - successive_miss(weights.tolist(), [j == i for j in range(weights.size)], draws)
        assert abs(freq[i] - p) <= Z_BOUND * math.sqrt(p * (1 - p) / rows), (i, freq[i], p)
    assert (weighted_sample(np.random.default_rng(0), 3, weights, weights.size).shape) == (3, 6)


# -- plumbing ----------------------------------------------------------------------------------------


def test_seeded_runs_repeat_and_parallel_runs_split_the_seed() -> None:
    r, v = REGIMES["stratified"], VIOLATORS["random"]
    assert simulate(r, v, 5_000, seed=1) == simulate(r, v, 5_000, seed=1)
    par = simulate_parallel(r, v, 20_001, seed=9, workers=2)
    with process_pool(2) as pool:  # warm processes give the same estimate as a fresh pool
        assert par == simulate_parallel(r, v, 20_001, seed=9, workers=2, executor=pool)
    assert par.trials == 20_001
    assert_agrees(par, exact_detection(r, v))
    assert simulate_parallel(r, v, 100, seed=9, workers=1).trials == 100


def test_estimate_interval() -> None:
    e = Estimate(0, 1000, 0)
    lo, hi = e.interval()
    assert lo == 0.0
    assert 0.0 < hi < 0.01
    e = Estimate(430, 1000, 0)
    lo, hi = e.interval()
    assert lo < 0.43 < hi
    assert e.to_json()["probability"] == 0.43


def test_evasion_probability() -> None:
    assert evasion_probability(0.0, 24.0) == 0.0
    assert evasion_probability(24.0, None) == 0.0
    assert evasion_probability(24.0, 24.0) == pytest.approx(1 - math.exp(-1))


@pytest.mark.parametrize(("make", "needle"), [
    (lambda: Regime(CLASSES, Weighted(2, (1.0, 2.0))), "2 weights for 20 sites"),
    (lambda: Regime(CLASSES, Fixed(2, (0, 1, 2))), "every site index exactly once"),
    (lambda: Regime(CLASSES, Stratified((("silo", 1),))), "class 'silo', which has no sites"),
    (lambda: Regime(CLASSES, Stratified((("test", 3),))), "inspections in class 'test' is 3"),
    (lambda: Regime(CLASSES, Stratified((("test", 1), ("test", 1)))), "names a class twice"),
    (lambda: Regime(CLASSES, Uniform(21)), "inspections is 21"),
    (lambda: Regime((), Uniform(0)), "sites is 0"),
    (lambda: Violator(2, Strategy.BELIEVED_UNLIKELY), "needs `belief`"),
    (lambda: placement(REGIMES["uniform"], Violator(21)), "violating is 21"),
    (lambda: placement(REGIMES["uniform"], Violator(2, Strategy.BELIEVED_UNLIKELY, belief=(1.0,))),
     "1 belief weights for 20 sites"),
    (lambda: simulate(REGIMES["uniform"], Violator(1), 0), "trials is 0"),
])
def test_bad_models_are_refused(make: object, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        make()  # type: ignore[operator]
