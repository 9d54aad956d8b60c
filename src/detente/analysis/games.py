"""Inspection games: inspector against a potential violator, after Avenhaus & Canty.

A detection probability says what a regime catches if the other side cheats; a game says whether
it will cheat. The payoffs follow the normalisation of Avenhaus & Canty, *Compliance Quantified*
(1996) and Avenhaus, von Stengel & Zamir, "Inspection games" (2002):

================  ==================  ===================
outcome           inspector           inspectee
================  ==================  ===================
legal, no alarm   0                   0
legal, alarm      −e                  −h
violation caught  −a                  −b
violation missed  −c                  +d
================  ==================  ===================

with 0 ≤ a < c (a caught violation still costs the inspector, less than a missed one), b, d > 0,
and an inspection costing the inspector C. Three solutions are offered: the simultaneous game
(both choose at once; mixed equilibrium), inspector leadership (the inspector commits to an
inspection probability first, as a treaty regime does), and a reference period of n periods with
m inspections, either observed by the inspectee as they happen (Dresher's sequential game,
non-zero-sum) or fixed in advance and unobserved. docs/analysis.md derives every formula.

Plain computation, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cache

from detente.analysis import checks
from detente.errors import ConfigError

Matrix = tuple[tuple[float, float], tuple[float, float]]

#: Inspection periods the sequential game solves before refusing (n·m states, ~5 s at 1,000 × 500).
MAX_PERIODS = 1_000


@dataclass(frozen=True)
class Payoffs:
    """The seven numbers of the game, in one unit (say, the inspectee's gain from success = 1)."""

    gain: float                   # d: inspectee's gain from an undetected violation
    penalty: float                # b: inspectee's loss when a violation is detected
    loss_undetected: float = 1.0  # c: inspector's loss from an undetected violation
    loss_detected: float = 0.0    # a: inspector's loss from a detected violation (a < c)
    inspection_cost: float = 0.0  # C: inspector's cost of inspecting
    false_alarm_inspector: float = 0.0  # e: inspector's cost of a false alarm
    false_alarm_inspectee: float = 0.0  # h: inspectee's cost of a false alarm

    def __post_init__(self) -> None:
        checks.nonnegative("gain", self.gain, positive=True)
        checks.nonnegative("penalty", self.penalty, positive=True)
        checks.nonnegative("loss_undetected", self.loss_undetected, positive=True)
        checks.nonnegative("loss_detected", self.loss_detected)
        checks.nonnegative("inspection_cost", self.inspection_cost)
        checks.nonnegative("false_alarm_inspector", self.false_alarm_inspector)
        checks.nonnegative("false_alarm_inspectee", self.false_alarm_inspectee)
        if self.loss_detected >= self.loss_undetected:
            raise ConfigError(
                f"loss_detected ({self.loss_detected}) must be smaller than loss_undetected "
                f"({self.loss_undetected}): an inspector who fares no better by catching a violation "
                "has no reason to inspect"
            )


@dataclass(frozen=True)
class Equilibrium:
    """Probabilities of inspecting and of violating, and each side's expected payoff."""

    inspect: float
    violate: float
    inspector: float
    inspectee: float
    kind: str  # "mixed", "pure" or "leadership"

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def solve_2x2(a: Matrix, b: Matrix) -> tuple[float, float, float, float, str]:
    """An equilibrium of the bimatrix game with row payoffs `a` and column payoffs `b`: returns
    (P(row 0), P(column 0), row payoff, column payoff, kind).

    Rows are the inspector's (inspect, not), columns the inspectee's (violate, legal). Every
    extreme equilibrium of a 2×2 game has each player either pure or mixing so as to make the
    other indifferent, so those candidates are checked for mutual best response. In the usual
    inspection game only the completely mixed one survives; when ties leave several, we take the
    one with the least violation (an indifferent inspectee behaves legally), then the best for
    the inspector, then the most inspection."""
    scale = 1.0 + max(abs(v) for row in (*a, *b) for v in row)
    tol = 1e-12 * scale
    xs, ys = {0.0, 1.0}, {0.0, 1.0}
    db = b[0][0] - b[1][0] - b[0][1] + b[1][1]
    da = a[0][0] - a[0][1] - a[1][0] + a[1][1]
    if db != 0.0 and 0.0 <= (x := (b[1][1] - b[1][0]) / db) <= 1.0:
        xs.add(x)
    if da != 0.0 and 0.0 <= (y := (a[1][1] - a[0][1]) / da) <= 1.0:
        ys.add(y)
    found: list[tuple[float, float, float, float]] = []
    for x in xs:
        for y in ys:
            rows = (y * a[0][0] + (1 - y) * a[0][1], y * a[1][0] + (1 - y) * a[1][1])
            cols = (x * b[0][0] + (1 - x) * b[1][0], x * b[0][1] + (1 - x) * b[1][1])
            ua, ub = x * rows[0] + (1 - x) * rows[1], y * cols[0] + (1 - y) * cols[1]
            if max(rows) <= ua + tol and max(cols) <= ub + tol:
                found.append((x, y, ua, ub))
    if not found:  # pragma: no cover - every finite game has an equilibrium among the candidates
        raise ConfigError("no equilibrium found for these payoffs; check that they are finite numbers")
    x, y, ua, ub = min(found, key=lambda e: (e[1], -e[2], -e[0]))
    kind = "pure" if x in (0.0, 1.0) and y in (0.0, 1.0) else "mixed"
    return x, y, ua + 0.0, ub + 0.0, kind


def _one_shot(pay: Payoffs, detect_prob: float, false_alarm_prob: float) -> tuple[Matrix, Matrix]:
    p, alpha = detect_prob, false_alarm_prob
    c_, a_, e_ = pay.loss_undetected, pay.loss_detected, pay.false_alarm_inspector
    d_, b_, h_ = pay.gain, pay.penalty, pay.false_alarm_inspectee
    cost = pay.inspection_cost
    # 0.0 − x rather than −x: a zero cost must print as 0, not −0.
    inspector = (
        (0.0 - cost - a_ * p - c_ * (1 - p), 0.0 - cost - e_ * alpha),
        (0.0 - c_, 0.0),
    )
    inspectee = (
        (d_ * (1 - p) - b_ * p, 0.0 - h_ * alpha),
        (d_, 0.0),
    )
    return inspector, inspectee


def deterrence_threshold(pay: Payoffs, false_alarm_prob: float = 0.0) -> float:
    """The detection probability above which violating pays less than behaving legally:
    (1 − P)·d − P·b < −h·α  ⟺  P > (d + h·α)/(b + d). Above 1 means no regime deters."""
    alpha = checks.probability("false_alarm_prob", false_alarm_prob)
    return (pay.gain + pay.false_alarm_inspectee * alpha) / (pay.penalty + pay.gain)


def simultaneous(pay: Payoffs, detect_prob: float, false_alarm_prob: float = 0.0) -> Equilibrium:
    """Both choose at once: the inspector whether to inspect (detecting a violation with
    `detect_prob`, raising a false alarm with `false_alarm_prob`), the inspectee whether to violate.

    In the mixed equilibrium the inspector inspects with q* = d/(P(b+d) − hα), which makes the
    inspectee indifferent, and the inspectee violates with t* = (C + eα)/(P(c−a) + eα), which
    makes the inspector indifferent: the violation probability depends on the inspector's
    payoffs only."""
    p = checks.probability("detect_prob", detect_prob)
    alpha = checks.probability("false_alarm_prob", false_alarm_prob)
    x, y, ua, ub, kind = solve_2x2(*_one_shot(pay, p, alpha))
    return Equilibrium(inspect=x, violate=y, inspector=ua, inspectee=ub, kind=kind)


def leadership(pay: Payoffs, detect_prob: float, false_alarm_prob: float = 0.0) -> Equilibrium:
    """The inspector announces, credibly, the probability q with which it inspects; the inspectee
    then chooses (Avenhaus & Canty 1996, ch. 9; Maschler 1966).

    Payoffs are linear in q with one break, at the smallest deterring q* = d/(P(b+d) − hα), so the
    optimum is at q ∈ {0, q*, 1}. At q* the inspectee is indifferent and is taken to do what the
    inspector prefers (a leader could enforce it by announcing q* + ε): legal behaviour when
    deterring is worth its cost, which is the usual case, and otherwise the violation the inspector
    chose to tolerate rather than pay for with false alarms and inspections."""
    p = checks.probability("detect_prob", detect_prob)
    alpha = checks.probability("false_alarm_prob", false_alarm_prob)
    insp, tee = _one_shot(pay, p, alpha)
    qs = [0.0, 1.0]
    margin = p * (pay.penalty + pay.gain) - pay.false_alarm_inspectee * alpha
    if margin > 0.0 and pay.gain / margin <= 1.0:
        qs.append(pay.gain / margin)
    tol = 1e-12 * (1.0 + max(abs(v) for row in (*insp, *tee) for v in row))
    options: list[Equilibrium] = []
    for q in qs:
        tee_u = [q * tee[0][j] + (1 - q) * tee[1][j] for j in (0, 1)]  # violate, legal
        insp_u = [q * insp[0][j] + (1 - q) * insp[1][j] for j in (0, 1)]
        for j in (0, 1):
            if tee_u[j] >= max(tee_u) - tol:
                options.append(Equilibrium(q, 1.0 - j, insp_u[j] + 0.0, tee_u[j] + 0.0, "leadership"))
    return max(options, key=lambda e: (e.inspector, -e.violate, -e.inspect))


@dataclass(frozen=True)
class PeriodSolution:
    """A reference period of `periods` periods with `inspections` inspections."""

    periods: int
    inspections: int
    observed: bool            # does the inspectee see inspections as they happen?
    first_stage: Equilibrium  # strategies in the first period (per period if not observed)
    violation_prob: float     # P(a violation happens at some time in the reference period)
    detection_prob: float     # P(a violation happens and is detected)

    def to_json(self) -> dict[str, object]:
        return {
            "periods": self.periods, "inspections": self.inspections, "observed": self.observed,
            "first_stage": self.first_stage.to_json(), "violation_prob": self.violation_prob,
            "detection_prob": self.detection_prob,
            "detected_given_violation": (self.detection_prob / self.violation_prob
                                         if self.violation_prob > 0 else None),
        }


def sequential(pay: Payoffs, periods: int, inspections: int, detect_prob: float = 1.0) -> PeriodSolution:
    """Dresher's game, non-zero-sum: in each of n periods the inspector decides whether to use one
    of its m inspections and the inspectee, who has seen every earlier inspection, whether to
    violate now (once) or wait. Inspections are fixed by agreement, so their cost and false alarms
    are left out, as in Dresher (1962) and Avenhaus & von Stengel (1992).

    Solved backwards: each period is a 2×2 game whose "wait" cells are the equilibrium payoffs of
    the remaining (n−1, m−1) or (n−1, m) game. With detect_prob = 1 the inspectee's payoff is
    d·C(n−1, m)/Σ_{i≤m} C(n, i)(b/d)^{m−i}, which the tests check."""
    n = checks.count("periods", periods, low=1, high=MAX_PERIODS)
    m = checks.count("inspections", inspections, high=n, hint=f" (at most one per period, {n} periods)")
    p = checks.probability("detect_prob", detect_prob)
    caught = (-pay.loss_detected * p - pay.loss_undetected * (1 - p), -pay.penalty * p + pay.gain * (1 - p))
    missed = (-pay.loss_undetected, pay.gain)

    @cache
    def stage(k: int, j: int) -> tuple[float, float, float, float, str]:
        """(P(inspect), P(violate), inspector, inspectee, kind) with k periods and j inspections left."""
        if k == 0:
            return 0.0, 0.0, 0.0, 0.0, "pure"
        if j == 0:
            return 0.0, 1.0, missed[0], missed[1], "pure"
        w_insp, w_not = stage(k - 1, j - 1), stage(k - 1, j)
        a = ((caught[0], w_insp[2]), (missed[0], w_not[2]))
        b = ((caught[1], w_insp[3]), (missed[1], w_not[3]))
        return solve_2x2(a, b)

    for k in range(1, n + 1):  # fill the cache bottom-up so deep games do not recurse deeply
        for j in range(0, min(k, m) + 1):
            stage(k, j)
    q, t, ua, ub, kind = stage(n, m)
    # Forward: how likely a violation, and a caught one, under the equilibrium strategies.
    mass = {(n, m): 1.0}
    violated = detected = 0.0
    for _ in range(n):
        nxt: dict[tuple[int, int], float] = {}
        for (kk, j), mu in mass.items():
            qi, ti, *_ = stage(kk, j)
            violated += mu * ti
            detected += mu * ti * qi * p
            for to, pr in (((kk - 1, j - 1), (1 - ti) * qi), ((kk - 1, j), (1 - ti) * (1 - qi))):
                if pr > 0.0:
                    nxt[to] = nxt.get(to, 0.0) + mu * pr
        mass = nxt
    return PeriodSolution(n, m, True, Equilibrium(q, t, ua, ub, kind), violated, detected)


def scheduled(pay: Payoffs, periods: int, inspections: int, detect_prob: float = 1.0) -> PeriodSolution:
    """The same reference period with the m inspection dates drawn at the start, uniformly among
    the C(n, m) schedules, and not revealed: every period is inspected with probability m/n, so a
    violation is caught with m·P/n wherever the inspectee puts it, and it violates iff
    m·P/n < d/(b+d)."""
    n = checks.count("periods", periods, low=1)
    m = checks.count("inspections", inspections, high=n, hint=f" (at most one per period, {n} periods)")
    p = checks.probability("detect_prob", detect_prob)
    caught = m * p / n
    u_violate = pay.gain * (1 - caught) - pay.penalty * caught
    violate = 1.0 if u_violate > 0.0 else 0.0
    ua = -pay.loss_detected * caught - pay.loss_undetected * (1 - caught) if violate else 0.0
    eq = Equilibrium(m / n, violate, ua, max(u_violate, 0.0), "pure")
    return PeriodSolution(n, m, False, eq, violate, violate * caught)


def dresher_value(periods: int, inspections: int, penalty: float = 1.0) -> float:
    """The inspectee's equilibrium payoff in Dresher's game with gain 1 and penalty b:
    C(n−1, m) / Σ_{i=0}^{m} C(n, i)·b^{m−i} (b = 1 is Dresher's 1962 value)."""
    n, m = periods, inspections
    return math.comb(n - 1, m) / math.fsum(math.comb(n, i) * penalty ** (m - i) for i in range(m + 1))
