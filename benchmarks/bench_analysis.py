"""Speed of the analysis: Monte Carlo site-draws per second on both cores, and exact detection
probabilities for up to 10⁶ sites.

Monte Carlo: a regime of 1,000 sites (four classes) drawing 20 sites uniformly each period for
10 periods against a violator with 5 sites placed at random, detection 0.9 per inspection; and the
2022-sized regime (5 sites, 2 drawn, one violation). A site-draw is one inspected site in one
period of one trial. The reference, measured in the same run on the same cores, is NumPy's raw
`Generator.random` rate (uniform doubles per second): the ratio says how many raw random numbers'
time one simulated inspection costs. The goal is ≥ 10⁷ site-draws/s.

Exact: P(detect) for N = 10³ … 10⁶ sites (k = N/100 violating, n = N/10 inspected, p = 0.9, so
the whole hypergeometric support is summed), against the same sum done with scipy.stats.hypergeom
in the same run; and the exact sample size for N = 10⁶.

    python benchmarks/bench_analysis.py [--trials 400000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

import numpy as np
from scipy import stats

from _common import CORES, report
from detente.analysis.detection import detection_probability
from detente.analysis.montecarlo import process_pool, simulate, simulate_parallel
from detente.analysis.regime import Regime, Uniform, Violator, exact_detection
from detente.analysis.sampling import sample_size

RAW_CHUNK = 1 << 20
T = TypeVar("T")


def _raw_random(args: tuple[int, int]) -> int:
    seed, chunks = args
    rng = np.random.default_rng(seed)
    for _ in range(chunks):
        rng.random(RAW_CHUNK)
    return chunks * RAW_CHUNK


def raw_random_rate(seconds: float = 1.0) -> float:
    """Uniform doubles per second from Generator.random on all cores (a fresh pool, warmed)."""
    with ProcessPoolExecutor(CORES, mp_context=mp.get_context("fork")) as pool:
        list(pool.map(_raw_random, [(i, 4) for i in range(CORES)]))
        t = time.perf_counter()
        _raw_random((99, 8))  # size the timed run to about `seconds`
        chunks = max(8, int(8 * seconds / (time.perf_counter() - t)))
        t = time.perf_counter()
        total = sum(pool.map(_raw_random, [(i, chunks) for i in range(CORES)]))
        return total / (time.perf_counter() - t)


def monte_carlo(name: str, regime: Regime, violator: Violator, trials: int, repeat: int) -> float:
    """Best of `repeat` runs on one core and on all cores (warm worker processes); returns the latter."""
    exact = exact_detection(regime, violator)
    one = par = 0.0
    with process_pool(CORES) as pool:
        simulate_parallel(regime, violator, 2_000, seed=1, workers=CORES, executor=pool)  # start, import
        for r in range(repeat):
            t = time.perf_counter()
            est1 = simulate(regime, violator, trials // CORES, seed=r)
            one = max(one, est1.site_draws / (time.perf_counter() - t))
            t = time.perf_counter()
            est = simulate_parallel(regime, violator, trials, seed=r, workers=CORES, executor=pool)
            par = max(par, est.site_draws / (time.perf_counter() - t))
    z = (est.probability - exact) / max(est.std_err, 1e-12)
    print(f"{name}: {trials:,} trials × {regime.periods} periods × {regime.inspections} inspections; "
          f"estimate {est.probability:.5f} vs exact {exact:.5f} ({z:+.2f} s.e.); 1 core "
          f"{one:,.0f} site-draws/s, {CORES} cores {par:,.0f} site-draws/s (warm worker processes)")
    return par


def scipy_detection(n_sites: int, k: int, n: int, p: float) -> float:
    j = np.arange(max(0, n + k - n_sites), min(n, k) + 1)
    return float(np.sum(stats.hypergeom(n_sites, k, n).pmf(j) * -np.expm1(j * np.log1p(-p))))


def timed(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Best of `repeat` wall times, and the value."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t)
    return best, value


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=400_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    classes = tuple(("brigade", "storage", "test-site", "depot")[i % 4] for i in range(1_000))
    large = Regime(classes, Uniform(20), detect_prob=0.9, periods=10)
    small = Regime(("missile-brigade",) * 4 + ("test-site",), Uniform(2))
    ours = monte_carlo("1,000 sites", large, Violator(5), args.trials, args.repeat)
    monte_carlo("2022-sized (5 sites)", small, Violator(1), args.trials * 10, args.repeat)
    ref = raw_random_rate()
    report(f"Monte Carlo site-draws (ours, 1,000 sites) vs raw Generator.random doubles (reference), "
           f"{CORES} cores", ours, ref, "/s", "≥ 10,000,000 site-draws/s")
    print(f"  goal {'met' if ours >= 1e7 else 'NOT met'}: {ours / 1e7:.1f}× 10⁷ site-draws/s")

    print(f"{'sites N':>10} {'violating':>10} {'inspected':>10} {'ours ms':>9} {'scipy ms':>9} {'ratio':>6} "
          f"{'|diff|':>8}  (p = 0.9: the whole support is summed)")
    cases = [(10**3, 10, 100), (10**4, 100, 10**3), (10**5, 10**3, 10**4), (10**6, 10**4, 10**5),
             (10**6, 5 * 10**5, 5 * 10**5)]
    worst = (0.0, 1.0)
    for n_sites, k, n in cases:
        t_ours, v_ours = timed(lambda: detection_probability(n_sites, k, n, 0.9), args.repeat)  # noqa: B023
        t_ref, v_ref = timed(lambda: scipy_detection(n_sites, k, n, 0.9), args.repeat)  # noqa: B023
        print(f"{n_sites:>10,} {k:>10,} {n:>10,} {t_ours * 1e3:>9.2f} {t_ref * 1e3:>9.2f} "
              f"{t_ours / t_ref:>6.2f} {abs(v_ours - v_ref):>8.1e}")
        worst = (t_ours, t_ref)
    report("Exact P(detect), N = 1,000,000, k = n = 500,000 (ours vs scipy.stats.hypergeom)", worst[0] * 1e6,
           worst[1] * 1e6, "µs", "faster than scipy", higher_is_better=False)
    t_plan, plan = timed(lambda: sample_size(10**6, 100, 0.95, 0.9), 1)
    print(f"Exact sample size, N = 1,000,000, k = 100, target 0.95, p = 0.9: {plan.inspections:,} "
          f"inspections (approximation {plan.approximation:,.1f}) in {t_plan * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
