"""Compare two agreements by meaning: which rules they share, which only one has, what changed.

Two obligations are *the same rule* when they constrain the same thing in the same place for the
same parties: the same kind, the same selector up to logical equivalence of its form (operand
order of `and`/`or`, nesting, `a <= x <= b` chains, the order of an `in` list, which side the
literal is on, `$named` selectors expanded), the same zone or sites, the same bound parties (for
inspections: who inspects whom, from which pool). Names, clause numbers and wording do not matter.
What may differ between two matched rules is reported as a change: the bound, the counting, the
readings, the conditions, the quota or notice.

Then, within each agreement: reciprocal pairs (the same rule binding each side, or an inspection
regime and its mirror) and asymmetries (a rule binding one party whose mirror is absent).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from detente.agreement.model import (
    Agreement,
    Capability,
    Condition,
    Counted,
    Exchange,
    Inspection,
    Notify,
    Obligation,
)
from detente.agreement.selector import Selector

# ---------------------------------------------------------------- selectors in canonical form


def canonical(sel: Selector | None) -> str:
    """A canonical text for a selector's logical form (see the module docstring)."""
    if sel is None:
        return ""
    tree = ast.parse(sel.text.strip(), mode="eval").body
    return _canon(tree)


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
        ast.In: "in", ast.NotIn: "not in"}


def _lit(node: ast.expr) -> str:
    v = ast.literal_eval(node)
    if isinstance(v, list | tuple | set):
        return "[" + ",".join(sorted(repr(x) for x in v)) + "]"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return repr(v)


def _atoms(node: ast.expr, op: type[ast.boolop]) -> list[str]:
    """The operands of a flattened `and` (or `or`), a chain `a <= x <= b` counting as the `and` of
    its comparisons, sorted and without repeats (both are commutative and idempotent)."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, op):
        return sorted({a for v in node.values for a in _atoms(v, op)})
    if op is ast.And and isinstance(node, ast.Compare) and len(node.ops) > 1:
        return sorted(set(_comparisons(node)))
    return [_canon(node)]


def _comparisons(node: ast.Compare) -> list[str]:
    operands = [node.left, *node.comparators]
    cmps = []
    for i, op_node in enumerate(node.ops):
        op = _OPS[type(op_node)]
        left, right = operands[i], operands[i + 1]
        if op in ("in", "not in"):
            cmps.append(f"{_name(left)} {op} {_lit(right)}")
        elif isinstance(left, ast.Name) and not isinstance(right, ast.Name):
            cmps.append(f"{left.id} {op} {_lit(right)}")
        else:
            cmps.append(f"{_name(right)} {_FLIP[op]} {_lit(left)}")
    return cmps


def _canon(node: ast.expr) -> str:
    if isinstance(node, ast.BoolOp):
        op = type(node.op)
        parts = _atoms(node, op)
        joiner = " and " if op is ast.And else " or "
        return "(" + joiner.join(parts) + ")" if len(parts) > 1 else parts[0]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return f"not {_canon(node.operand)}"
    if isinstance(node, ast.Name):
        return f"{node.id} == True" if node.id not in ("true", "false", "True", "False") else node.id
    if isinstance(node, ast.Compare):
        cmps = _comparisons(node)
        return cmps[0] if len(cmps) == 1 else "(" + " and ".join(sorted(set(cmps))) + ")"
    return ast.dump(node)


def _name(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else ast.dump(node)


# ---------------------------------------------------------------- what a rule is, and its terms


def identity(ob: Obligation) -> tuple[Any, ...]:
    """What a rule constrains: equal identities are the same rule (names and wording aside)."""
    parties = tuple(sorted(ob.parties))
    if isinstance(ob, Counted):
        agreed = next((r for r in ob.readings if r.by is None), ob.readings[0])
        where = ("zone", ob.zone) if ob.zone else ("sites", tuple(sorted(ob.sites or ())))
        return (ob.kind, canonical(agreed.select), agreed.sum, where, parties)
    if isinstance(ob, Capability):
        where = ("zone", ob.zone) if ob.zone else ("sites", tuple(sorted(ob.sites or ())))
        return (ob.kind, canonical(ob.launcher), canonical(ob.banned), where, parties)
    if isinstance(ob, Notify):
        return (ob.kind, ob.event, canonical(ob.select), parties)
    if isinstance(ob, Inspection):
        pool = tuple(sorted(ob.sites or ())) or tuple(sorted(ob.site_kinds or ()))
        return (ob.kind, ob.inspecting, ob.inspected, pool)
    if isinstance(ob, Exchange):
        return (ob.kind, parties)
    return (ob.kind, ob.id)


def terms(ob: Obligation) -> dict[str, Any]:
    """The terms two matched rules may differ in (JSON-friendly)."""
    out: dict[str, Any] = {"conditions": sorted(_condition(c) for c in ob.conditions)}
    if isinstance(ob, Counted):
        for r in ob.readings:
            key = "agreed" if r.by is None else f"{r.by} reading"
            out[key] = {"max": r.max, "select": canonical(r.select), "sum": r.sum,
                        "counting": sorted(f"{canonical(s)} counts as {n}" for s, n in r.counting),
                        "assume": sorted(f"{canonical(s)}: {sorted(v.items())}" for s, v in r.assume)}
    elif isinstance(ob, Capability):
        out["presumption"] = ob.presumption
    elif isinstance(ob, Notify):
        out["within_days"], out["advance_days"] = ob.within_days, ob.advance_days
    elif isinstance(ob, Inspection):
        out.update(quota=f"{ob.quota_count} per {ob.quota_per}", notice_hours=ob.notice_hours,
                   selection=sorted(ob.selections),
                   weights=sorted((ob.weights or {}).items()), reveal_hours=ob.reveal_hours)
    elif isinstance(ob, Exchange):
        out.update(as_of=sorted(f"{mo:02d}-{d:02d}" for mo, d in ob.as_of), due_days=ob.due_days)
    return out


def _condition(c: Condition) -> str:
    if c.reciprocal:
        return f"reciprocal: {c.reciprocal}"
    return f"dates: {c.after or '…'} to {c.before or '…'}"


# ---------------------------------------------------------------- the diff


@dataclass(frozen=True)
class Change:
    term: str
    a: Any
    b: Any


@dataclass(frozen=True)
class Match:
    a: Obligation
    b: Obligation
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Pair:
    """Two rules in one agreement that mirror each other across the parties."""

    agreement: str
    first: str
    second: str
    how: str


@dataclass
class Diff:
    a: Agreement
    b: Agreement
    both: list[Match] = field(default_factory=list)
    only_a: list[Obligation] = field(default_factory=list)
    only_b: list[Obligation] = field(default_factory=list)
    reciprocal: list[Pair] = field(default_factory=list)
    asymmetric: list[tuple[str, Obligation]] = field(default_factory=list)
    #: Unmatched rules of A and B that constrain the same items in another way (another kind,
    #: place or set of parties): where two texts meet without saying the same thing.
    related: list[tuple[Obligation, Obligation, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No difference at all: every rule matched with identical terms."""
        return not (self.only_a or self.only_b or any(x.changes for x in self.both))

    def to_json(self) -> dict[str, Any]:
        def ob(o: Obligation) -> dict[str, Any]:
            return {"id": o.id, "kind": o.kind, "clause": o.clause, "parties": list(o.parties),
                    "text": o.text, "source": list(o.source)}

        return {
            "a": {"id": self.a.id, "title": self.a.title, "file": self.a.file},
            "b": {"id": self.b.id, "title": self.b.title, "file": self.b.file},
            "empty": self.empty,
            "in_both": [{"a": ob(x.a), "b": ob(x.b),
                         "changes": [{"term": c.term, "a": c.a, "b": c.b} for c in x.changes]}
                        for x in self.both],
            "only_in_a": [ob(o) for o in self.only_a],
            "only_in_b": [ob(o) for o in self.only_b],
            "reciprocal_pairs": [{"agreement": p.agreement, "first": p.first, "second": p.second,
                                  "how": p.how} for p in self.reciprocal],
            "asymmetries": [{"agreement": ag, **ob(o)} for ag, o in self.asymmetric],
            "related": [{"a": ob(x), "b": ob(y), "how": how} for x, y, how in self.related],
            "unmodelled": {ag.id: [{"clause": u.clause, "text": u.text, "reason": u.reason,
                                    "source": list(u.source)} for u in ag.unmodelled]
                           for ag in (self.a, self.b)},
        }


def diff(a: Agreement, b: Agreement) -> Diff:
    d = Diff(a, b)
    unmatched_b = list(b.obligations)
    for oa in a.obligations:
        key = identity(oa)
        hit = next((ob for ob in unmatched_b if identity(ob) == key), None)
        if hit is None:
            d.only_a.append(oa)
            continue
        unmatched_b.remove(hit)
        ta, tb = terms(oa), terms(hit)
        changes = tuple(Change(k, ta.get(k), tb.get(k)) for k in sorted(set(ta) | set(tb))
                        if ta.get(k) != tb.get(k))
        d.both.append(Match(oa, hit, changes))
    d.only_b = unmatched_b
    for x in d.only_a:
        for y in d.only_b:
            how = _related(x, y)
            if how:
                d.related.append((x, y, how))
    for ag in (a, b) if a is not b else (a,):
        pairs, lone = symmetry(ag)
        d.reciprocal += pairs
        d.asymmetric += [(ag.id, o) for o in lone]
    return d


def symmetry(ag: Agreement) -> tuple[list[Pair], list[Obligation]]:
    """Reciprocal pairs and one-sided rules within one agreement (two-party mirrors)."""
    pairs: list[Pair] = []
    lone: list[Obligation] = []
    obs = list(ag.obligations)
    everyone = set(ag.party_ids)
    for o in obs:
        if isinstance(o, Inspection):
            mirror = next((x for x in obs if isinstance(x, Inspection) and x.inspecting == o.inspected
                           and x.inspected == o.inspecting), None)
            if mirror is not None:
                if o.id < mirror.id:
                    how = f"{o.inspecting} inspects {o.inspected} and back"
                    pairs.append(Pair(ag.id, o.id, mirror.id, how))
            else:
                lone.append(o)
            continue
        bound = set(o.parties)
        if bound == everyone and len(everyone) > 1:
            pairs.append(Pair(ag.id, o.id, o.id, "binds every party alike"))
            continue
        # the same rule, elsewhere in the agreement, binding the other side
        twin = next((x for x in obs if x is not o and _same_but_parties(o, x)
                     and set(x.parties) == everyone - bound), None)
        if twin is not None:
            if o.id < twin.id:
                pairs.append(Pair(ag.id, o.id, twin.id, "the same rule for each side"))
        elif any(c.reciprocal for c in o.conditions):
            pairs.append(Pair(ag.id, o.id, next(c.reciprocal for c in o.conditions if c.reciprocal) or "",
                              "conditional on the other side's commitment"))
        else:
            lone.append(o)
    return pairs, lone


def _items(o: Obligation) -> str | None:
    if isinstance(o, Counted):
        return canonical(next((r for r in o.readings if r.by is None), o.readings[0]).select)
    if isinstance(o, Capability):
        return canonical(o.banned)
    return None


def _scope(o: Obligation) -> str:
    if isinstance(o, Counted | Capability):
        where = f"zone {o.zone}" if o.zone else f"at {', '.join(o.sites)}" if o.sites else "everywhere"
        return f"{o.kind} {where}, binding {', '.join(o.parties)}"
    return o.kind


def _related(x: Obligation, y: Obligation) -> str | None:
    """The same items under another kind of rule, place or set of parties."""
    ix, iy = _items(x), _items(y)
    if ix is None or ix != iy:
        return None
    return f"both constrain the same items; {_scope(x)} against {_scope(y)}"


def _same_but_parties(x: Obligation, y: Obligation) -> bool:
    return identity(x)[:-1] == identity(y)[:-1] and type(x) is type(y)


def matched_ids(d: Diff) -> Iterable[tuple[str, str]]:
    return ((x.a.id, x.b.id) for x in d.both)


def describe(o: Obligation) -> str:
    """One line for a human: what the rule constrains."""
    if isinstance(o, Counted):
        agreed = next((r for r in o.readings if r.by is None), o.readings[0])
        where = f" in zone {o.zone}" if o.zone else f" at {', '.join(o.sites)}" if o.sites else ""
        bound = f" ≤ {agreed.max}" if o.kind == "limit" else ""
        return f"{o.kind} `{agreed.select.text}`{where}{bound} for {', '.join(o.parties)}"
    if isinstance(o, Inspection):
        return (f"inspection: {o.inspecting} inspects {o.inspected}, {o.quota_count} per {o.quota_per}, "
                f"{' or '.join(o.selections)}")
    if isinstance(o, Capability):
        launcher, banned = (o.launcher.text if o.launcher else ""), (o.banned.text if o.banned else "")
        return f"capability: `{launcher}` must not fire `{banned}`"
    return f"{o.kind} for {', '.join(o.parties)}"


__all__: Sequence[str] = ["Diff", "canonical", "describe", "diff", "identity", "symmetry", "terms"]
