"""Selectors: the compiled NumPy mask agrees with a naive row-by-row evaluator written here, on random
holdings (missing values included) and random expressions; and nothing but comparisons gets in."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detente.agreement.model import Attribute, Category
from detente.agreement.selector import (
    BOOL,
    BUILTIN_NAMES,
    ENUM,
    INTEGER,
    LIST,
    MAX_SELECTOR_CHARS,
    NUMBER,
    STRING,
    SelectorSyntaxError,
    Vocabulary,
    compile_selector,
)
from detente.agreement.table import HoldingsTable, SiteInfo

ATTRS: dict[str, Attribute] = {
    "range_km": Attribute("range_km", NUMBER),
    "warheads": Attribute("warheads", INTEGER),
    "deployed": Attribute("deployed", BOOL),
    "status": Attribute("status", ENUM, frozenset({"operational", "converted", "training"})),
    "system": Attribute("system", STRING),
    "can_launch": Attribute("can_launch", LIST),
}
CATEGORIES: dict[str, Category] = {
    "ICBM": Category("ICBM", ("range_km", "warheads", "deployed"), {"range_km": 10000, "deployed": True}),
    "SLBM": Category("SLBM", ("range_km", "warheads"), {}),
    "GLCM": Category("GLCM", ("range_km", "system"), {"system": "9M729", "status": "operational"}),
    "launcher": Category("launcher", ("can_launch",), {"can_launch": ["GLCM"]}),
}
SITES = {
    "alpha": SiteInfo("icbm-base", "US", -111.0, 47.5),
    "bravo": SiteInfo("missile-brigade", "RU", 45.0, 55.0),
}
VOCAB = Vocabulary(
    types={**BUILTIN_NAMES, **{n: a.type for n, a in ATTRS.items()}},
    enums={n: a.values for n, a in ATTRS.items() if a.values is not None},
    categories=frozenset(CATEGORIES),
)
STRINGS: dict[str, list[str]] = {  # the values a literal may take (some no row has)
    "category": sorted(CATEGORIES),
    "party": ["US", "RU", "CN"],
    "site": ["alpha", "bravo", "charlie", "nowhere"],
    "site_kind": ["icbm-base", "missile-brigade", "storage"],
    "host": ["US", "RU", "PL"],
    "status": ["operational", "converted", "training"],
    "system": ["9M729", "Minuteman III", "", "Сармат"],
}
NUMBERS = ["range_km", "warheads"]
NUMBER_LITERALS = st.one_of(st.integers(-5, 12000), st.sampled_from([0.5, 499.5, 500.0, 5500.0, -0.0, 1e4]))

# ------------------------------------------------------------------ random holdings


@st.composite
def holdings(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for _ in range(draw(st.integers(0, 25))):
        attrs: dict[str, Any] = {}
        if draw(st.booleans()):
            attrs["range_km"] = draw(st.one_of(st.integers(0, 12000),
                                               st.sampled_from([499.5, 500.0, 5500.0])))
        if draw(st.booleans()):
            attrs["warheads"] = draw(st.integers(0, 12))
        if draw(st.booleans()):
            attrs["deployed"] = draw(st.booleans())
        if draw(st.booleans()):
            attrs["status"] = draw(st.sampled_from(STRINGS["status"]))
        if draw(st.booleans()):
            attrs["system"] = draw(st.sampled_from(STRINGS["system"]))
        rows.append({
            "category": draw(st.sampled_from([*sorted(CATEGORIES), "unlisted", None])),
            "party": draw(st.sampled_from(["US", "RU", None])),
            "site": draw(st.sampled_from(["alpha", "bravo", "charlie", None])),
            "count": draw(st.integers(1, 5)),
            "attributes": attrs,
        })
    return rows


def row_value(row: Mapping[str, Any], name: str) -> Any:
    """What an item holds for `name`: its own value, else its category's default, else None."""
    if name in ("category", "party", "site"):
        return row.get(name)
    if name in ("site_kind", "host"):
        info = SITES.get(row.get("site") or "")
        return None if info is None else getattr(info, "kind" if name == "site_kind" else "host")
    own = row["attributes"].get(name)
    if own is not None:
        return own
    cat = CATEGORIES.get(row.get("category") or "")
    return None if cat is None else cat.defaults.get(name)


# ------------------------------------------------------------------ random expressions, and a naive evaluator

Expr = tuple[Any, ...]


def comparisons() -> st.SearchStrategy[Expr]:
    ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    num = st.tuples(st.just("cmp"), st.sampled_from(NUMBERS), ops, NUMBER_LITERALS, st.booleans())
    chain = st.tuples(st.just("chain"), NUMBER_LITERALS, st.sampled_from(["<", "<="]),
                      st.sampled_from(NUMBERS), st.sampled_from(["<", "<="]), NUMBER_LITERALS)
    text = st.sampled_from(sorted(STRINGS)).flatmap(lambda a: st.tuples(
        st.just("cmp"), st.just(a), st.sampled_from(["==", "!="]), st.sampled_from(STRINGS[a]),
        st.booleans()))
    member = st.sampled_from(sorted(STRINGS)).flatmap(lambda a: st.tuples(
        st.just("in"), st.just(a), st.sampled_from(["in", "not in"]),
        st.lists(st.sampled_from(STRINGS[a]), min_size=1, max_size=3)))
    num_member = st.tuples(st.just("in"), st.sampled_from(NUMBERS), st.sampled_from(["in", "not in"]),
                           st.lists(st.integers(0, 12), min_size=1, max_size=3))
    flag = st.one_of(
        st.just(("flag",)),
        st.tuples(st.just("cmp"), st.just("deployed"), st.sampled_from(["==", "!="]), st.booleans(),
                  st.booleans()),
        st.tuples(st.just("in"), st.just("deployed"), st.sampled_from(["in", "not in"]),
                  st.lists(st.booleans(), min_size=1, max_size=2)),
    )
    return st.one_of(num, chain, text, member, num_member, flag)


expressions: st.SearchStrategy[Expr] = st.recursive(
    comparisons(),
    lambda inner: st.one_of(
        st.tuples(st.just("not"), inner),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, min_size=2, max_size=3)),
    ),
    max_leaves=8,
)


def lit(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v + '"'
    return repr(v)


def render(e: Expr) -> str:
    tag = e[0]
    if tag == "cmp":
        _, attr, op, value, literal_first = e
        if literal_first:
            return f"{lit(value)} {FLIP[op]} {attr}"
        return f"{attr} {op} {lit(value)}"
    if tag == "chain":
        _, lo, op1, attr, op2, hi = e
        return f"{lit(lo)} {op1} {attr} {op2} {lit(hi)}"
    if tag == "in":
        _, attr, op, values = e
        return f"{attr} {op} [{', '.join(lit(v) for v in values)}]"
    if tag == "flag":
        return "deployed"
    if tag == "not":
        return f"not ({render(e[1])})"
    return f" {tag} ".join(f"({render(x)})" for x in e[1])


FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
PY_OPS = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def naive(e: Expr, row: Mapping[str, Any]) -> bool | None:
    """The rule stated once in selector.py, applied literally, in Kleene's three-valued logic: a
    comparison on a missing value is unknown (None), whatever the operator; `not` keeps unknown;
    `and` is false if any part is false, `or` true if any part is true, else unknown if any is."""
    tag = e[0]
    if tag == "cmp":
        _, attr, op, value, _ = e
        v = row_value(row, attr)
        return None if v is None else bool(PY_OPS[op](v, value))
    if tag == "chain":
        _, lo, op1, attr, op2, hi = e
        v = row_value(row, attr)
        return None if v is None else bool(PY_OPS[op1](lo, v) and PY_OPS[op2](v, hi))
    if tag == "in":
        _, attr, op, values = e
        v = row_value(row, attr)
        return None if v is None else (v in values) == (op == "in")
    if tag == "flag":
        v = row_value(row, "deployed")
        return None if v is None else v is True
    if tag == "not":
        inner = naive(e[1], row)
        return None if inner is None else not inner
    parts = [naive(x, row) for x in e[1]]
    if tag == "and":
        return False if False in parts else None if None in parts else True
    return True if True in parts else None if None in parts else False


def table_of(rows: list[dict[str, Any]]) -> HoldingsTable:
    return HoldingsTable.from_items(rows, ATTRS, CATEGORIES, SITES)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=holdings(), expr=expressions)
def test_compiled_mask_equals_naive_evaluation(rows: list[dict[str, Any]], expr: Expr) -> None:
    text = render(expr)
    sel = compile_selector(text, VOCAB)
    mask = sel.mask(table_of(rows))
    assert mask.dtype == np.bool_
    assert mask.shape == (len(rows),)
    expected = [naive(expr, r) for r in rows]
    assert mask.tolist() == [v is True for v in expected], text
    true, unknown = sel.mask3(table_of(rows))
    assert (true == mask).all()
    assert unknown.tolist() == [v is None for v in expected], text


@settings(max_examples=100, deadline=None)
@given(rows=holdings(), expr=expressions)
def test_not_not_is_identity_and_de_morgan(rows: list[dict[str, Any]], expr: Expr) -> None:
    t = table_of(rows)
    text = render(expr)
    a, ua = compile_selector(text, VOCAB).mask3(t)
    aa, uaa = compile_selector(f"not (not ({text}))", VOCAB).mask3(t)
    assert (aa == a).all()
    assert (uaa == ua).all()
    # De Morgan holds in Kleene's logic: not (x and y) == (not x) or (not y), unknowns included
    lhs = compile_selector(f"not (({text}) and deployed)", VOCAB).mask3(t)
    rhs = compile_selector(f"(not ({text})) or (not deployed)", VOCAB).mask3(t)
    assert (lhs[0] == rhs[0]).all()
    assert (lhs[1] == rhs[1]).all()


def test_missing_values_are_unknown_either_way() -> None:
    """A missing value makes a comparison unknown, and its negation too: neither selected nor
    excluded, so a rule can say "cannot tell" instead of letting the item slip through."""
    rows = [{"category": "SLBM", "party": "US", "site": "alpha", "attributes": {}}]  # no range, no default
    t = table_of(rows)
    for text in ["range_km > 500", "range_km <= 500", "range_km == 0", "range_km != 0",
                 "range_km in [0, 1]", "range_km not in [0, 1]", "deployed", "deployed == false",
                 'system != "x"', 'status not in ["converted"]']:
        for sel in (text, f"not ({text})"):
            true, unknown = compile_selector(sel, VOCAB).mask3(t)
            assert (true.tolist(), unknown.tolist()) == ([False], [True]), sel
        # decided anyway where the known part settles it
        assert compile_selector(f'({text}) and category == "ICBM"', VOCAB).mask3(t)[1].tolist() == [False]
        assert compile_selector(f'({text}) or category == "SLBM"', VOCAB).mask3(t)[0].tolist() == [True]


def test_category_defaults_fill_gaps_and_own_values_win() -> None:
    rows = [
        {"category": "ICBM", "party": "US", "site": "alpha", "attributes": {}},
        {"category": "ICBM", "party": "US", "site": "alpha",
         "attributes": {"range_km": 400, "deployed": False}},
    ]
    t = table_of(rows)
    assert compile_selector("range_km > 5500 and deployed", VOCAB).mask(t).tolist() == [True, False]


def test_precedence_is_pythons() -> None:
    rows = [{"category": c, "party": "US", "site": "alpha", "attributes": {"deployed": d}}
            for c in ("ICBM", "GLCM") for d in (True, False)]
    t = table_of(rows)
    got = compile_selector('category == "GLCM" or category == "ICBM" and deployed', VOCAB).mask(t).tolist()
    assert got == [True, False, True, True]  # `and` binds tighter than `or`
    got = compile_selector('not category == "GLCM" and deployed', VOCAB).mask(t).tolist()
    assert got == [True, False, False, False]  # `not` binds tighter than `and`


def test_selector_reports_what_it_reads() -> None:
    sel = compile_selector('  category in ["ICBM", "GLCM"] and 500 <= range_km <= 5500 and site_kind != "x" ',
                           VOCAB)
    assert sel.text == 'category in ["ICBM", "GLCM"] and 500 <= range_km <= 5500 and site_kind != "x"'
    assert sel.names == {"category", "range_km", "site_kind"}
    assert sel.categories == {"ICBM", "GLCM"}
    assert str(sel) == sel.text


def test_empty_table() -> None:
    assert compile_selector("deployed", VOCAB).mask(table_of([])).shape == (0,)


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ('__import__("os").system("true")', 0),
        ('category == "ICBM" and __import__("os")', 23),
        ("len(system) > 3", 0),
        ('system.upper() == "X"', 0),
        ("category.__class__ == 1", 0),
        ('system[0] == "9"', 0),
        ("(lambda: True)()", 0),
        ("lambda: deployed", 0),
        ("[x for x in [1]] == [1]", 0),
        ("any(d for d in [deployed])", 0),
        ("{k: 1 for k in [1]}", 0),
        ('f"{system}" == "x"', 0),
        ('deployed and f"{__import__(\'os\')}"', 13),
        ("(w := deployed)", 1),
        ("range_km * 2 > 500", 0),
        ("deployed & deployed", 0),
        ("range_km if deployed else warheads", 0),
        ("...", 0),
        ('b"x" == system', 0),
        ("range_km > 1j", 11),
        ("range_km > None", 11),
        ("range_km > -True", 11),
        ("range_km > +5", 11),
        ("*range_km", 0),
        ("range_km == warheads", 0),
        ("5 == 5", 0),
        ("range_km is 5", 0),
        ('category == "ICBM" and status > "converted"', 23),
        ('system == "Сармат" and rang > 5', 23),  # columns count characters, not UTF-8 bytes
        ("can_launch == \"GLCM\"", 0),
        ("range_km", 0),
        ("deployed == 1", 12),
        ("range_km in 5", 0),
        ("__class__", 0),
        ("eval('1')", 0),
    ],
)
def test_only_comparisons_are_accepted(text: str, offset: int, tmp_path: Path) -> None:
    with pytest.raises(SelectorSyntaxError) as caught:
        compile_selector(text, VOCAB)
    assert caught.value.offset == offset, str(caught.value)


def test_a_refused_selector_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(SelectorSyntaxError):
        compile_selector(f'__import__("pathlib").Path({str(marker)!r}).touch()', VOCAB)
    assert not marker.exists()


@pytest.mark.parametrize(("text", "words"), [
    ("", "non-empty"),
    ("   ", "non-empty"),
    ("yield 1", "not a valid expression"),
    ("await deployed", "only attributes"),
    ("import os", "not a valid expression"),
    ("deployed; deployed", "not a valid expression"),
    ("(" * 250 + "deployed" + ")" * 250, "too many nested parentheses"),
    ("not " * 5000 + "deployed", "characters, over the"),
    ("deployed or " * 170 + "deployed", "characters, over the"),
])
def test_malformed_and_oversized_selectors_refused_not_crashed(text: str, words: str) -> None:
    with pytest.raises(SelectorSyntaxError, match=words):
        compile_selector(text, VOCAB)


def test_deep_but_short_selectors_compile_and_evaluate() -> None:
    """Nesting is bounded by the length limit and Python's parser; what passes both evaluates."""
    rows = [{"category": "ICBM", "party": "US", "site": "alpha", "attributes": {"deployed": d}}
            for d in (True, False)]
    t = table_of(rows)
    for text in ["not " * 480 + "deployed", "not (" * 150 + "deployed" + ")" * 150,
                 "(" * 199 + "deployed" + ")" * 199]:
        assert len(text) <= MAX_SELECTOR_CHARS
        assert compile_selector(text, VOCAB).mask(t).tolist() == [True, False]


def test_length_limit_is_a_limit_not_a_guess() -> None:
    ok = " or ".join(["deployed"] * ((MAX_SELECTOR_CHARS - 8) // 12 + 1))
    assert len(ok) <= MAX_SELECTOR_CHARS
    compile_selector(ok, VOCAB)


def test_vocabulary_typos_come_with_suggestions() -> None:
    cases = {
        'category == "ICMB"': ("unknown category 'ICMB'", "did you mean 'ICBM'?", 12),
        'status == "convertd"': ("'convertd' is not a value of 'status'", "did you mean 'converted'?", 10),
        "range > 5": ("unknown attribute 'range'", "did you mean 'range_km'?", 0),
        "deployd": ("unknown attribute 'deployd'", "did you mean 'deployed'?", 0),
        'category in ["SLBM", "GLMC"]': ("unknown category 'GLMC'", "did you mean 'GLCM'?", 21),
    }
    for text, (msg, suggestion, offset) in cases.items():
        with pytest.raises(SelectorSyntaxError) as caught:
            compile_selector(text, VOCAB)
        assert str(caught.value) == msg or msg in str(caught.value)
        assert (caught.value.suggestion, caught.value.offset) == (suggestion, offset), text


def test_numbers_compare_as_numbers() -> None:
    rows = [{"category": "GLCM", "party": "RU", "site": "bravo", "attributes": {"range_km": r}}
            for r in (499, 500, 5500, 5501, 480.5)]
    t = table_of(rows)
    band = compile_selector("500 <= range_km <= 5500", VOCAB).mask(t).tolist()
    assert band == [False, True, True, False, False]
    assert compile_selector("range_km > -1e3", VOCAB).mask(t).all()
    assert compile_selector("range_km == 480.5", VOCAB).mask(t).tolist() == [False] * 4 + [True]
    assert not math.isnan(float(t.column("range_km")[0]))


@pytest.mark.parametrize(("text", "words", "column"), [
    ("range_km between 500 and 5500", "500 <= range_km <= 5500", 9),
    ("range_km >= 500 km", "takes no unit", 16),
    ("500 km <= range_km", "takes no unit", 4),
    ("range_km >= ", "a selector is comparisons", None),
])
def test_syntax_errors_say_what_form_is_accepted(text: str, words: str, column: int | None) -> None:
    with pytest.raises(SelectorSyntaxError, match=words) as info:
        compile_selector(text, VOCAB)
    if column is not None:  # the column points at the offending word, not beside it
        assert info.value.offset == column
