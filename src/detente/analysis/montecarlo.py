"""Monte Carlo: a regime played against a violator, site by site, many times at once.

Each trial places the violator's items, then for every period draws the inspected sites the way the
regime does (uniform without replacement, per class, weighted successive draws, or the fixed
list), lets the host move items out of notified sites when the notice outlasts the move, and
decides for each inspected violating site whether the inspection finds it. Trials are rows of
NumPy arrays, so a batch of a hundred thousand trials costs a few array operations per inspection.

Why simulate what regime.exact_detection already computes: the simulator makes none of the
exact formulas' shortcuts (hypergeometric symmetry, the successive-sampling recursion, the move as
a reduced detection probability), so agreement within sampling error checks them, and it carries
over to variants with no closed form. Seeded with `numpy.random.Generator`; parallel runs split
the seed with `SeedSequence.spawn`, so a (seed, workers) pair always gives the same estimate.
"""

from __future__ import annotations

import math
import multiprocessing as mp
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detente.analysis import checks
from detente.analysis.regime import (
    Fixed,
    Regime,
    Strategy,
    Stratified,
    Uniform,
    Violator,
    Weighted,
    evasion_probability,
    placement,
)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Array cells (trials × sites) per batch: about 4 MB of booleans, well inside the L2/L3 caches.
BATCH_CELLS = 1 << 22
#: Below this many inspections per draw, Floyd's algorithm (O(n²) compares, no O(N) work) wins.
FLOYD_MAX = 24


@dataclass(frozen=True)
class Estimate:
    """Detected trials out of all trials; `site_draws` counts inspected sites simulated."""

    detected: int
    trials: int
    site_draws: int

    @property
    def probability(self) -> float:
        return self.detected / self.trials

    @property
    def std_err(self) -> float:
        p = self.probability
        return math.sqrt(p * (1.0 - p) / self.trials)

    def interval(self, z: float = 1.96) -> tuple[float, float]:
        """Wilson score interval: unlike p ± z·se it stays inside [0, 1] and is not empty at 0 or 1."""
        n, p = self.trials, self.probability
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(self.detected + other.detected, self.trials + other.trials,
                        self.site_draws + other.site_draws)

    def to_json(self) -> dict[str, object]:
        lo, hi = self.interval()
        return {"probability": self.probability, "std_err": self.std_err, "trials": self.trials,
                "detected": self.detected, "interval95": [lo, hi]}


def floyd_sample(rng: np.random.Generator, rows: int, population: int, draws: int) -> IntArray:
    """`draws` distinct indices in [0, population) per row, each subset equally likely (Floyd's
    algorithm: for j = N−n … N−1 take t ∈ [0, j], or j itself if t is already taken)."""
    out = np.empty((rows, draws), dtype=np.int64)
    for col, j in enumerate(range(population - draws, population)):
        t = rng.integers(0, j + 1, size=rows)
        dup = np.zeros(rows, dtype=np.bool_)
        for prev in range(col):
            dup |= out[:, prev] == t
        out[:, col] = np.where(dup, j, t)
    return out


def shuffle_sample(rng: np.random.Generator, rows: int, population: int, draws: int) -> IntArray:
    """The same, by a partial Fisher–Yates shuffle of each row (O(N) per row; for large draws)."""
    perm = np.broadcast_to(np.arange(population, dtype=np.int64), (rows, population)).copy()
    r = np.arange(rows)
    for j in range(draws):
        pick = j + rng.integers(0, population - j, size=rows)
        chosen = perm[r, pick]
        perm[r, pick] = perm[:, j]
        perm[:, j] = chosen
    return perm[:, :draws]


def uniform_sample(rng: np.random.Generator, rows: int, population: int, draws: int) -> IntArray:
    if draws == 0:
        return np.empty((rows, 0), dtype=np.int64)
    if draws <= FLOYD_MAX:
        return floyd_sample(rng, rows, population, draws)
    return shuffle_sample(rng, rows, population, draws)


def weighted_sample(
    rng: np.random.Generator, rows: int, weights: npt.NDArray[np.float64], draws: int,
) -> IntArray:
    """Successive sampling proportional to weight: the `draws` smallest of E_i/w_i with E_i
    standard exponential (the race of exponential clocks; Efraimidis & Spirakis 2006)."""
    keys = rng.standard_exponential((rows, weights.size)) / weights
    if draws == weights.size:
        return np.broadcast_to(np.arange(draws), (rows, draws)).copy()
    return np.argpartition(keys, draws - 1, axis=1)[:, :draws] if draws else np.empty((rows, 0), np.int64)


class _Drawer:
    """The regime's per-period draw, prepared once: returns the inspected site indices per trial."""

    def __init__(self, regime: Regime) -> None:
        self.regime = regime
        sel = regime.selection
        self.fixed: IntArray | None = None
        self.strata: list[tuple[IntArray, int]] = []
        self.weights: npt.NDArray[np.float64] | None = None
        if isinstance(sel, Fixed):
            self.fixed = np.asarray(sel.preference[: sel.inspections], dtype=np.int64)
        elif isinstance(sel, Stratified):
            classes = np.asarray(regime.classes)
            self.strata = [(np.flatnonzero(classes == c), n) for c, n in sel.allocation if n > 0]
        elif isinstance(sel, Weighted):
            self.weights = np.asarray(sel.weights, dtype=np.float64)

    def __call__(self, rng: np.random.Generator, rows: int) -> IntArray:
        sel = self.regime.selection
        if self.fixed is not None:
            return np.broadcast_to(self.fixed, (rows, self.fixed.size))
        if self.weights is not None:
            return weighted_sample(rng, rows, self.weights, self.regime.inspections)
        if isinstance(sel, Uniform):
            return uniform_sample(rng, rows, self.regime.sites, sel.inspections)
        parts = [members[uniform_sample(rng, rows, members.size, n)] for members, n in self.strata]
        return np.concatenate(parts, axis=1) if parts else np.empty((rows, 0), dtype=np.int64)


def _random_placements(rng: np.random.Generator, rows: int, sites: int, violating: int) -> BoolArray:
    mask = np.zeros((rows, sites), dtype=np.bool_)
    if violating:
        idx = uniform_sample(rng, rows, sites, violating)
        np.put_along_axis(mask, idx, True, axis=1)
    return mask


def simulate(
    regime: Regime, violator: Violator, trials: int, seed: int | np.random.SeedSequence = 0,
) -> Estimate:
    """Estimate P(at least one violation found over the horizon) from `trials` seeded trials."""
    checks.count("trials", trials, low=1)
    fixed_mask = placement(regime, violator)
    rng = np.random.default_rng(seed)
    draw = _Drawer(regime)
    n_sites, n_insp = regime.sites, regime.inspections
    p = regime.detect_prob
    evade = evasion_probability(regime.notice_hours, violator.move_hours) > 0.0
    move_hours = violator.move_hours or 1.0
    batch = max(1, min(trials, BATCH_CELLS // max(n_sites, n_insp, 1)))
    detected = 0
    done = 0
    prior = np.asarray(violator.belief, dtype=np.float64) if violator.strategy is Strategy.PRIOR else None
    while done < trials:
        rows = min(batch, trials - done)
        placed = None
        if prior is not None:
            placed = np.zeros((rows, n_sites), dtype=np.bool_)
            np.put_along_axis(placed, weighted_sample(rng, rows, prior, violator.violating), True, axis=1)
        elif fixed_mask is None:
            placed = _random_placements(rng, rows, n_sites, violator.violating)
        found = np.zeros(rows, dtype=np.bool_)
        for _ in range(regime.periods):
            idx = draw(rng, rows)
            if placed is not None:
                hit = np.take_along_axis(placed, idx, axis=1)
            else:
                assert fixed_mask is not None
                hit = fixed_mask[idx]
            if p < 1.0:
                hit &= rng.random(hit.shape) < p
            if evade:  # the items are gone if the move finished before the inspectors arrived
                hit &= rng.standard_exponential(hit.shape) * move_hours >= regime.notice_hours
            found |= hit.any(axis=1)
        detected += int(found.sum())
        done += rows
    return Estimate(detected, trials, trials * regime.periods * n_insp)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes by forkserver (spawn where unavailable), as the log's pools are made:
    forking a process that may hold threads (a test runner, a server) can copy a held lock."""
    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def _simulate_args(args: tuple[Regime, Violator, int, np.random.SeedSequence]) -> Estimate:
    return simulate(*args)


def simulate_parallel(
    regime: Regime, violator: Violator, trials: int, seed: int = 0, workers: int = 2,
    executor: Executor | None = None,
) -> Estimate:
    """`simulate` split into `workers` shares with independent child seeds (SeedSequence.spawn),
    run on `executor` if given (to reuse warm processes), else on a new process pool."""
    checks.count("trials", trials, low=1)
    checks.count("workers", workers, low=1)
    children = np.random.SeedSequence(seed).spawn(workers)
    shares = [trials // workers + (1 if i < trials % workers else 0) for i in range(workers)]
    jobs = [(regime, violator, s, c) for s, c in zip(shares, children, strict=True) if s > 0]
    if executor is not None:
        parts = list(executor.map(_simulate_args, jobs))
    elif workers == 1:
        parts = [_simulate_args(jobs[0])]
    else:
        with process_pool(workers) as pool:
            parts = list(pool.map(_simulate_args, jobs))
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total
