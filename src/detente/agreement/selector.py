"""Selectors: the small expression language that says which items a rule is about.

    category == "GLCM" and 500 <= range_km <= 5500
    category in ["ICBM", "SLBM", "heavy bomber"] and deployed
    not (status in ["converted", "training"])

We parse with Python's own `ast` (the syntax people already know, chained comparisons included)
and then accept only a whitelist of node types: names, literals, lists of literals, comparisons,
`and`/`or`/`not`. Nothing is ever passed to `eval`; a selector cannot call, index or import.

Every name and literal is checked against the agreement's vocabulary when the agreement loads
(unknown attribute, unknown category, a string compared with a number...), so a typo fails at
load time with its column rather than silently matching nothing at evaluation time.

Evaluation is columnar: a compiled selector maps a table of holdings (NumPy columns) to a boolean
mask in one pass per node, which is what keeps a million holdings well under a second.
Missing values follow one rule, stated once: an item that lacks an attribute does not satisfy any
comparison on it (`range_km > 500` and `range_km <= 500` are both false), and `not` negates the
result of the comparison, so `not (range_km > 500)` is true for it.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Mask = npt.NDArray[np.bool_]
Mask3 = tuple[Mask, Mask]  # (true, unknown); false is what is neither

#: Attribute types a selector can compare.
NUMBER, INTEGER, BOOL, STRING, ENUM, LIST = "number", "integer", "bool", "string", "enum", "list"

#: Names every item has, whatever its category.
BUILTIN_NAMES: dict[str, str] = {
    "category": STRING,
    "party": STRING,
    "site": STRING,
    "site_kind": STRING,
    "host": STRING,
}

#: Longer selectors are refused: a treaty rule is a line, and the parser's recursion is bounded.
MAX_SELECTOR_CHARS = 2000

_CMP = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}


class SelectorSyntaxError(ValueError):
    """A selector is malformed; `offset` is the 0-based column inside the expression."""

    def __init__(self, message: str, offset: int = 0, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.offset = offset
        self.suggestion = suggestion


class Table(Protocol):
    """What a selector needs from a table of items: typed columns and string codes."""

    def __len__(self) -> int: ...

    def column(self, name: str) -> npt.NDArray[Any]:
        """float64 for numbers (NaN = missing), int8 for bools (-1 = missing), int32 string codes
        (-1 = missing)."""
        ...

    def code(self, name: str, value: str) -> int:
        """The code of string `value` in column `name`, or -2 if no row has it (matches nothing)."""
        ...


@dataclass(frozen=True)
class Vocabulary:
    """What names a selector may use and what they hold: the agreement's attributes and categories."""

    types: Mapping[str, str]  # name -> NUMBER/INTEGER/BOOL/STRING/ENUM/LIST
    enums: Mapping[str, frozenset[str]]  # enum name -> allowed values
    categories: frozenset[str]

    def suggest(self, word: str, candidates: list[str]) -> str | None:
        close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
        return f"did you mean '{close[0]}'?" if close else None


@dataclass(frozen=True)
class Selector:
    """A checked, compiled selector. `text` is what the author wrote; `names` what it reads."""

    text: str
    names: frozenset[str]
    categories: frozenset[str]  # category literals it names (for cross-references)
    _fn: Callable[[Table], Mask3]

    def mask(self, table: Table) -> Mask:
        """Rows the selector is true for. A row missing an attribute the selector needs is never
        selected (see `mask3`)."""
        return self._fn(table)[0]

    def mask3(self, table: Table) -> Mask3:
        """(true, unknown): Kleene's three-valued logic over missing attributes. A comparison on a
        missing attribute is unknown; `and` is false if either side is false, `or` true if either
        side is true, `not` keeps unknown unknown. So a rule can tell "does not match" from
        "cannot tell", and a party cannot escape a ban by leaving out the attribute it reads."""
        return self._fn(table)

    def __str__(self) -> str:
        return self.text


def _offset(text: str, node: ast.AST) -> int:
    """Where `node` starts in `text`, in characters (ast counts UTF-8 bytes within a line)."""
    line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
    lines = text.split("\n")
    head = lines[line - 1] if 0 < line <= len(lines) else ""
    return sum(len(x) + 1 for x in lines[: line - 1]) + len(head.encode()[:col].decode(errors="ignore"))


def _literal(node: ast.expr, at: Callable[[ast.AST], int]) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
        return node.value
    if isinstance(node, ast.Name) and node.id in ("true", "false", "True", "False"):
        return node.id in ("true", "True")
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
        and not isinstance(node.operand.value, bool)
    ):
        return -node.operand.value
    raise SelectorSyntaxError(
        "expected a literal (a quoted string, a number, true or false)", at(node)
    )


def _is_name(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id not in ("true", "false", "True", "False")


def _all(parts: list[Callable[[Table], Mask3]]) -> Callable[[Table], Mask3]:
    def conj(t: Table) -> Mask3:
        true, unknown = parts[0](t)
        for p in parts[1:]:
            t2, u2 = p(t)
            false = (~true & ~unknown) | (~t2 & ~u2)
            true, unknown = true & t2, (unknown | u2) & ~false
        return true, unknown

    return conj


def _any(parts: list[Callable[[Table], Mask3]]) -> Callable[[Table], Mask3]:
    def disj(t: Table) -> Mask3:
        true, unknown = parts[0](t)
        for p in parts[1:]:
            t2, u2 = p(t)
            true = true | t2
            unknown = (unknown | u2) & ~true
        return true, unknown

    return disj


def _not(inner: Callable[[Table], Mask3]) -> Callable[[Table], Mask3]:
    def neg(t: Table) -> Mask3:
        true, unknown = inner(t)
        return ~true & ~unknown, unknown

    return neg


#: What a selector may be, said whenever one cannot be parsed.
FORMS = ("comparisons (==, !=, <, <=, >, >=; a range as a chain: 500 <= range_km <= 5500), "
         "attr in [\"a\", \"b\"], true/false attributes by name, joined by and, or, not and parentheses")
_BETWEEN = re.compile(r"\b(\w+)\s+between\s+(\S+)\s+and\s+(\S+)")
_UNIT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s+(?!and\b|or\b|in\b|not\b|if\b|else\b)([A-Za-z_]\w*)")


def _syntax_error(text: str, exc: SyntaxError) -> SelectorSyntaxError:
    """Say what went wrong in the words of the selector language, and what would be accepted."""
    m = _BETWEEN.search(text)
    if m:
        return SelectorSyntaxError(
            f"there is no 'between': write the range as a chain, {m.group(2)} <= {m.group(1)} <= "
            f"{m.group(3)} (both ends included)", m.start() + len(m.group(1)) + 1)
    m = _UNIT.search(text)
    if m:
        return SelectorSyntaxError(
            f"a number takes no unit ('{m.group(1)} {m.group(2)}'): write {m.group(1)}; the attribute's "
            "unit is set where it is defined", m.start(2))
    where = max((exc.offset or 1) - 1, 0)
    return SelectorSyntaxError(f"not a valid expression ({exc.msg}); a selector is {FORMS}", where)


def compile_selector(text: str, vocab: Vocabulary) -> Selector:
    """Parse, check against `vocab`, and compile. Raises SelectorSyntaxError with a column."""
    if not isinstance(text, str) or not text.strip():
        raise SelectorSyntaxError("a selector must be a non-empty expression")
    if len(text) > MAX_SELECTOR_CHARS:
        raise SelectorSyntaxError(
            f"selector is {len(text)} characters, over the {MAX_SELECTOR_CHARS} limit; name parts of it "
            "under definitions.selectors or simplify it")
    stripped = text.strip()

    def at(node: ast.AST) -> int:
        return _offset(stripped, node)

    try:
        tree = ast.parse(stripped, mode="eval")
    except (RecursionError, MemoryError):
        raise SelectorSyntaxError("selector is nested too deeply; simplify it") from None
    except SyntaxError as exc:
        raise _syntax_error(stripped, exc) from None
    names: set[str] = set()
    cats: set[str] = set()

    def name(node: ast.Name) -> str:
        if node.id not in vocab.types:
            raise SelectorSyntaxError(
                f"unknown attribute '{node.id}'", at(node), vocab.suggest(node.id, sorted(vocab.types))
            )
        if vocab.types[node.id] == LIST:
            raise SelectorSyntaxError(
                f"'{node.id}' is a list attribute; selectors compare single values (a capability "
                "obligation reads can_launch)",
                at(node),
            )
        names.add(node.id)
        return node.id

    def check_value(attr: str, value: Any, node: ast.expr) -> Any:
        kind = vocab.types[attr]
        off = at(node)
        if kind in (NUMBER, INTEGER):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SelectorSyntaxError(f"'{attr}' is a number; compared with {value!r}", off)
            return float(value)
        if kind == BOOL:
            if not isinstance(value, bool):
                raise SelectorSyntaxError(f"'{attr}' is true/false; compared with {value!r}", off)
            return value
        if not isinstance(value, str):
            raise SelectorSyntaxError(f"'{attr}' is text; compare it with a quoted string", off)
        if attr == "category":
            if value not in vocab.categories:
                raise SelectorSyntaxError(
                    f"unknown category '{value}'", off, vocab.suggest(value, sorted(vocab.categories))
                )
            cats.add(value)
        elif kind == ENUM and value not in vocab.enums[attr]:
            raise SelectorSyntaxError(
                f"'{value}' is not a value of '{attr}' ({', '.join(sorted(vocab.enums[attr]))})",
                off,
                vocab.suggest(value, sorted(vocab.enums[attr])),
            )
        return value

    def compare(attr: str, op: str, value: Any, off: int = 0) -> Callable[[Table], Mask3]:
        kind = vocab.types[attr]
        if op in ("in", "not in"):
            values = list(value)

            def isin(t: Table) -> Mask3:
                col = t.column(attr)
                if kind in (NUMBER, INTEGER):
                    hit = np.isin(col, np.array(values, dtype=np.float64))
                    present = ~np.isnan(col)
                elif kind == BOOL:
                    hit = np.isin(col, np.array([int(v) for v in values], dtype=np.int8))
                    present = col >= 0
                else:
                    hit = np.isin(col, np.array([t.code(attr, v) for v in values], dtype=np.int32))
                    present = col >= 0
                return (hit & present if op == "in" else ~hit & present), ~present

            return isin
        if kind in (STRING, ENUM, BOOL) and op not in ("==", "!="):
            raise SelectorSyntaxError(f"'{attr}' can only be compared with == , != , in, not in", off)

        def cmp(t: Table) -> Mask3:
            col = t.column(attr)
            if kind in (NUMBER, INTEGER):
                v: Any = value
                present = ~np.isnan(col)
            elif kind == BOOL:
                v = int(value)
                present = col >= 0
            else:
                v = t.code(attr, value)
                present = col >= 0
            with np.errstate(invalid="ignore"):
                res = {
                    "==": np.equal,
                    "!=": np.not_equal,
                    "<": np.less,
                    "<=": np.less_equal,
                    ">": np.greater,
                    ">=": np.greater_equal,
                }[op](col, v)
            return np.asarray(res & present, dtype=np.bool_), ~present

        return cmp

    def flip(op: str) -> str:
        return {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}[op]

    def walk(node: ast.expr) -> Callable[[Table], Mask3]:
        if isinstance(node, ast.BoolOp):
            parts = [walk(v) for v in node.values]
            return _all(parts) if isinstance(node.op, ast.And) else _any(parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return _not(walk(node.operand))
        if _is_name(node):
            assert isinstance(node, ast.Name)
            attr = name(node)
            if vocab.types[attr] != BOOL:
                raise SelectorSyntaxError(
                    f"'{attr}' is not true/false; compare it (e.g. {attr} == ...)", at(node)
                )
            return compare(attr, "==", True)
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            fns = []
            for i, op_node in enumerate(node.ops):
                op = _CMP.get(type(op_node))
                if op is None:
                    raise SelectorSyntaxError("unsupported comparison", at(node))
                left, right = operands[i], operands[i + 1]
                if op in ("in", "not in"):
                    if not _is_name(left) or not isinstance(right, (ast.List, ast.Tuple, ast.Set)):
                        raise SelectorSyntaxError(
                            f'use: attribute {op} ["a", "b"]', at(left)
                        )
                    attr = name(left)  # type: ignore[arg-type]
                    values = [check_value(attr, _literal(e, at), e) for e in right.elts]
                    fns.append(compare(attr, op, values))
                    continue
                if _is_name(left) and not _is_name(right):
                    attr = name(left)  # type: ignore[arg-type]
                    value = check_value(attr, _literal(right, at), right)
                    fns.append(compare(attr, op, value, at(left)))
                elif _is_name(right) and not _is_name(left):
                    attr = name(right)  # type: ignore[arg-type]
                    value = check_value(attr, _literal(left, at), left)
                    fns.append(compare(attr, flip(op), value, at(right)))
                else:
                    raise SelectorSyntaxError(
                        "each comparison needs one attribute and one literal", at(left)
                    )
            return fns[0] if len(fns) == 1 else _all(fns)
        raise SelectorSyntaxError(
            "only attributes, literals, comparisons, in, and, or, not are allowed here",
            at(node),
        )

    try:
        fn = walk(tree.body)
    except RecursionError:
        raise SelectorSyntaxError("selector is nested too deeply; simplify it") from None
    return Selector(stripped, frozenset(names), frozenset(cats), fn)
