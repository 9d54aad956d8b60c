"""Inspection games: closed forms, equilibrium conditions, an LP cross-check and Dresher's value."""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from detente.analysis import games
from detente.analysis.games import Payoffs
from detente.errors import ConfigError

BASE = Payoffs(gain=1.0, penalty=4.0, loss_undetected=1.0, loss_detected=0.2, inspection_cost=0.05,
               false_alarm_inspector=0.1, false_alarm_inspectee=0.1)

finite = st.floats(-10, 10, allow_nan=False)


@st.composite
def payoffs(draw: st.DrawFn) -> Payoffs:
    c = draw(st.floats(0.1, 10))
    return Payoffs(gain=draw(st.floats(0.01, 10)), penalty=draw(st.floats(0.01, 10)), loss_undetected=c,
                   loss_detected=draw(st.floats(0, 0.99)) * c, inspection_cost=draw(st.floats(0, 2)),
                   false_alarm_inspector=draw(st.floats(0, 2)), false_alarm_inspectee=draw(st.floats(0, 2)))


def test_mixed_equilibrium_matches_the_closed_forms() -> None:
    """q* = d/(P(b+d) − hα), t* = (C + eα)/(P(c−a) + eα) (docs/analysis.md, after Avenhaus,
    von Stengel & Zamir 2002, §4)."""
    p, alpha = 0.8, 0.05
    eq = games.simultaneous(BASE, p, alpha)
    d, b, h = BASE.gain, BASE.penalty, BASE.false_alarm_inspectee
    c, a, e, cost = BASE.loss_undetected, BASE.loss_detected, BASE.false_alarm_inspector, BASE.inspection_cost
    assert eq.kind == "mixed"
    assert eq.inspect == pytest.approx(d / (p * (b + d) - h * alpha))
    assert eq.violate == pytest.approx((cost + e * alpha) / (p * (c - a) + e * alpha))
    assert eq.inspectee == pytest.approx(-eq.inspect * h * alpha)  # what legal behaviour earns
    assert eq.inspector == pytest.approx(-c * eq.violate)          # what not inspecting earns


def _payoff_rows(pay: Payoffs, p: float, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    a, b = games._one_shot(pay, p, alpha)
    return np.array(a), np.array(b)


@given(payoffs(), st.floats(0, 1), st.floats(0, 0.5))
@settings(max_examples=300, deadline=None)
def test_simultaneous_solution_is_a_nash_equilibrium(pay: Payoffs, p: float, alpha: float) -> None:
    eq = games.simultaneous(pay, p, alpha)
    a, b = _payoff_rows(pay, p, alpha)
    x = np.array([eq.inspect, 1 - eq.inspect])
    y = np.array([eq.violate, 1 - eq.violate])
    tol = 1e-9 * (1 + np.abs(a).max() + np.abs(b).max())
    assert (a @ y).max() <= x @ a @ y + tol      # no better row against y
    assert (x @ b).max() <= x @ b @ y + tol      # no better column against x
    assert eq.inspector == pytest.approx(x @ a @ y, abs=tol)
    assert eq.inspectee == pytest.approx(x @ b @ y, abs=tol)


@given(st.tuples(finite, finite, finite, finite), st.tuples(finite, finite, finite, finite))
@settings(max_examples=300, deadline=None)
def test_2x2_solver_finds_an_equilibrium_of_any_game(av: tuple[float, ...], bv: tuple[float, ...]) -> None:
    a = ((av[0], av[1]), (av[2], av[3]))
    b = ((bv[0], bv[1]), (bv[2], bv[3]))
    x, y, ua, ub, _ = games.solve_2x2(a, b)
    am, bm = np.array(a), np.array(b)
    xs, ys = np.array([x, 1 - x]), np.array([y, 1 - y])
    assert (am @ ys).max() <= xs @ am @ ys + 1e-7
    assert (xs @ bm).max() <= xs @ bm @ ys + 1e-7
    assert ua == pytest.approx(xs @ am @ ys, abs=1e-7)
    assert ub == pytest.approx(xs @ bm @ ys, abs=1e-7)


def lp_value(m: np.ndarray) -> float:
    """Value of the zero-sum game where the row player pays m[i, j] to the column player and
    minimises: min v s.t. Σ_i x_i m[i, j] ≤ v for all j, x a distribution (scipy's HiGHS LP)."""
    rows, cols = m.shape
    res = linprog(c=[0] * rows + [1], A_ub=np.hstack([m.T, -np.ones((cols, 1))]), b_ub=np.zeros(cols),
                  A_eq=[[1] * rows + [0]], b_eq=[1], bounds=[(0, 1)] * rows + [(None, None)], method="highs")
    assert res.status == 0
    return float(res.x[-1])


@given(st.tuples(finite, finite, finite, finite))
@settings(max_examples=200, deadline=None)
def test_zero_sum_values_agree_with_linear_programming(v: tuple[float, ...]) -> None:
    pay_col = ((v[0], v[1]), (v[2], v[3]))               # what the column player receives
    pay_row = tuple(tuple(-x for x in r) for r in pay_col)
    _, _, _, ub, _ = games.solve_2x2(pay_row, pay_col)  # type: ignore[arg-type]
    assert ub == pytest.approx(lp_value(np.array(pay_col)), abs=1e-6)


@given(payoffs(), st.floats(0, 1), st.floats(0, 0.5))
@settings(max_examples=300, deadline=None)
def test_leadership_never_hurts_the_inspector(pay: Payoffs, p: float, alpha: float) -> None:
    """Announcing a strategy credibly is worth at least the simultaneous equilibrium to the inspector
    (Avenhaus & Canty 1996, ch. 9; Avenhaus, von Stengel & Zamir 2002, §5)."""
    lead = games.leadership(pay, p, alpha)
    sim = games.simultaneous(pay, p, alpha)
    assert lead.inspector >= sim.inspector - 1e-9
    if lead.violate == 0.0 and lead.inspect > 0:
        # deterred at the smallest deterring q: violating would earn the inspectee no more than legal
        q = lead.inspect
        violate = q * (pay.gain * (1 - p) - pay.penalty * p) + (1 - q) * pay.gain
        assert violate <= -q * pay.false_alarm_inspectee * alpha + 1e-9


def test_deterrence_threshold() -> None:
    """Violation stops paying when P > (d + hα)/(b + d); with no false alarms, d/(b + d)."""
    pay = Payoffs(gain=1.0, penalty=3.0)
    assert games.deterrence_threshold(pay) == pytest.approx(0.25)
    thr = games.deterrence_threshold(BASE, 0.05)
    assert thr == pytest.approx((1 + 0.1 * 0.05) / 5)
    # at the threshold, violating under certain inspection earns exactly what legal behaviour does
    assert BASE.gain * (1 - thr) - BASE.penalty * thr == pytest.approx(-BASE.false_alarm_inspectee * 0.05)
    # below it even certain inspection cannot deter: the violator violates, the inspector inspects
    eq = games.simultaneous(BASE, thr * 0.5, 0.05)
    assert (eq.kind, eq.violate, eq.inspect) == ("pure", 1.0, 1.0)
    lead = games.leadership(BASE, thr * 0.5, 0.05)
    assert lead.violate == 1.0


def test_expensive_inspections_are_not_made() -> None:
    pay = Payoffs(gain=1.0, penalty=4.0, loss_undetected=1.0, inspection_cost=2.0)
    eq = games.simultaneous(pay, 0.9)
    assert (eq.inspect, eq.violate) == (0.0, 1.0)


# -- reference periods ----------------------------------------------------------------------------


def dresher_recursion(n: int, m: int, b: Fraction) -> Fraction:
    """The zero-sum recursion in exact rationals: v(0, m) = 0, v(n, 0) = 1, and v(n, m) the value of
    [[−b, v(n−1, m−1)], [1, v(n−1, m)]] (inspector rows, minimising)."""
    @cache
    def v(k: int, j: int) -> Fraction:
        if k == 0:
            return Fraction(0)
        if j == 0:
            return Fraction(1)
        m_ = ((-b, v(k - 1, j - 1)), (Fraction(1), v(k - 1, j)))
        for i in (0, 1):
            for jj in (0, 1):
                if m_[i][jj] == max(m_[i]) and m_[i][jj] == min(m_[0][jj], m_[1][jj]):
                    return m_[i][jj]
        (p, q), (r, s) = m_
        return (p * s - q * r) / (p + s - q - r)
    return v(n, m)


@pytest.mark.parametrize("b", [Fraction(1), Fraction(2), Fraction(1, 3), Fraction(7, 2)])
def test_dresher_closed_form(b: Fraction) -> None:
    """Published closed form: the inspectee's value in Dresher's game is C(n−1, m)/Σ_{i≤m} C(n, i)
    (M. Dresher, "A sampling inspection problem in arms control agreements", RAND RM-2972-ARPA,
    1962), and with penalty b, C(n−1, m)/Σ_{i≤m} C(n, i)·b^{m−i} (B. von Stengel, "Recursive
    inspection games", Mathematics of Operations Research 41(3), 2016, arXiv:1412.0129). Checked
    against the recursion in exact rational arithmetic."""
    for n in range(1, 12):
        for m in range(0, n + 1):
            want = Fraction(math.comb(n - 1, m)) / sum(math.comb(n, i) * b ** (m - i) for i in range(m + 1))
            assert dresher_recursion(n, m, b) == want
            assert games.dresher_value(n, m, float(b)) == pytest.approx(float(want), rel=1e-12)
    assert dresher_recursion(2, 1, Fraction(1)) == Fraction(1, 3)


@pytest.mark.parametrize(("n", "m"), [(1, 1), (2, 1), (5, 2), (10, 3), (30, 7), (8, 8)])
@pytest.mark.parametrize("gain_penalty", [(1.0, 1.0), (2.0, 4.0), (0.5, 3.0)])
def test_sequential_game_gives_dreshers_value(n: int, m: int, gain_penalty: tuple[float, float]) -> None:
    d, b = gain_penalty
    pay = Payoffs(gain=d, penalty=b, loss_undetected=1.0, loss_detected=0.3)
    sol = games.sequential(pay, n, m)
    want = d * games.dresher_value(n, m, b / d)
    assert sol.first_stage.inspectee == pytest.approx(want, rel=1e-9, abs=1e-12)
    assert 0.0 <= sol.detection_prob <= sol.violation_prob <= 1.0


def test_sequential_boundaries() -> None:
    pay = Payoffs(gain=1.0, penalty=2.0)
    none = games.sequential(pay, 4, 0)
    assert (none.violation_prob, none.detection_prob, none.first_stage.violate) == (1.0, 0.0, 1.0)
    every = games.sequential(pay, 4, 4)
    assert (every.violation_prob, every.first_stage.inspect) == (0.0, 1.0)
    # an inspection that rarely works does not deter even when it happens every period
    weak = games.sequential(pay, 3, 3, detect_prob=0.1)
    assert weak.violation_prob == pytest.approx(1.0)
    assert weak.detection_prob == pytest.approx(0.1)


def test_scheduled_period_deters_when_m_p_over_n_exceeds_the_threshold() -> None:
    pay = Payoffs(gain=1.0, penalty=4.0)  # threshold 0.2
    assert games.scheduled(pay, 10, 3).violation_prob == 0.0        # 0.3 > 0.2
    loose = games.scheduled(pay, 10, 1)                             # 0.1 < 0.2
    assert loose.violation_prob == 1.0
    assert loose.detection_prob == pytest.approx(0.1)
    # the same inspections, observed one by one, leave the inspectee a positive expected gain
    assert games.sequential(pay, 10, 3).first_stage.inspectee > 0.0
    assert games.scheduled(pay, 10, 3).to_json()["detected_given_violation"] is None


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"gain": 0.0, "penalty": 1.0}, "gain is 0.0"),
    ({"gain": 1.0, "penalty": -1.0}, "penalty is -1.0"),
    ({"gain": 1.0, "penalty": 1.0, "loss_detected": 2.0}, "loss_detected .* must be smaller"),
    ({"gain": 1.0, "penalty": 1.0, "inspection_cost": float("inf")}, "finite"),
])
def test_payoff_checks(kwargs: dict[str, float], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        Payoffs(**kwargs)


def test_period_checks() -> None:
    pay = Payoffs(gain=1.0, penalty=1.0)
    with pytest.raises(ConfigError, match="inspections is 5"):
        games.sequential(pay, 4, 5)
    with pytest.raises(ConfigError, match=r"false_alarm_prob is 2\.0"):
        games.simultaneous(pay, 0.5, 2.0)
