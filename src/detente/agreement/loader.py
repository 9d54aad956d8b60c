"""Load an agreement file: shape (schema.py), then meaning (this module), every error located.

The loader refuses rather than guesses. Each refusal names file:line:column, the field, what was
expected and, where a near miss exists, what the author probably meant. Semantic checks cover
what a schema cannot: categories and attributes that exist, selectors that parse against the
vocabulary, zones that are valid polygons, parties that are parties, conditions that name an
obligation.
"""

from __future__ import annotations

import datetime as dt
import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from detente.agreement import model, schema
from detente.agreement.selector import (
    BOOL,
    BUILTIN_NAMES,
    ENUM,
    INTEGER,
    LIST,
    NUMBER,
    STRING,
    Selector,
    SelectorSyntaxError,
    Vocabulary,
    compile_selector,
)
from detente.agreement.weights import WeightError, weight_units
from detente.agreement.yamlsource import Path_, Source, read_yaml
from detente.errors import AgreementError, ConfigError

#: Attributes every item may carry without a definition (the columns a declaration always has).
CORE_ATTRIBUTES: dict[str, str] = {**BUILTIN_NAMES}


def _suggest(word: str, options: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


# ---------------------------------------------------------------- schema errors, located


def _unwrap(tp: Any, data: Any) -> Any:
    """The model class a value of annotation `tp` is validated against (given the data)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0], data)
    if origin in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(tp) if isinstance(a, type) and issubclass(a, BaseModel)]
        if isinstance(data, dict) and "kind" in data:
            for mdl in models:
                f = mdl.model_fields.get("kind")
                if f is not None and data["kind"] in typing.get_args(f.annotation):
                    return mdl
        for a in typing.get_args(tp):
            if a is not type(None):
                r = _unwrap(a, data)
                if r is not None:
                    return r
        return None
    return tp


def _model_at(root: type[BaseModel], data: Any, path: Path_) -> type[BaseModel] | None:
    tp: Any = root
    cur = data
    for p in path:
        tp = _unwrap(tp, cur)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            f = tp.model_fields.get(str(p))
            if f is None:
                return None
            tp = f.annotation
        else:
            origin = typing.get_origin(tp)
            args = typing.get_args(tp)
            if origin is list and args:
                tp = args[0]
            elif origin is dict and len(args) == 2:
                tp = args[1]
            else:
                return None
        cur = cur[p] if isinstance(cur, (dict, list)) and _has(cur, p) else None  # type: ignore[index]
    tp = _unwrap(tp, cur)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _has(container: Any, key: Any) -> bool:
    if isinstance(container, dict):
        return key in container
    return isinstance(key, int) and 0 <= key < len(container)


def _data_path(data: Any, loc: Sequence[Any]) -> Path_:
    """Pydantic's loc with union-member and tag names dropped: a path into the YAML data."""
    out: list[str | int] = []
    cur = data
    for i, p in enumerate(loc):
        if (isinstance(cur, dict) and isinstance(p, str) and p in cur) or (
            isinstance(cur, list) and isinstance(p, int) and 0 <= p < len(cur)
        ):
            out.append(p)
            cur = cur[p]  # type: ignore[index]
        elif i == len(loc) - 1 and isinstance(p, (str, int)):
            out.append(p)  # a missing or unknown field: the name itself
        # else: a union member or discriminator tag in pydantic's loc; skip
    return tuple(out)


_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "date_type": "a date YYYY-MM-DD",
    "date_parsing": "a date YYYY-MM-DD",
    "date_from_datetime_parsing": "a date YYYY-MM-DD",
}


def _schema_error(src: Source, root: type[BaseModel], err: Mapping[str, Any]) -> AgreementError:
    path = _data_path(src.data, err["loc"])
    typ = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if typ == "extra_forbidden":
        parent = _model_at(root, src.data, path[:-1])
        options = sorted(parent.model_fields) if parent else []
        return src.error(
            path,
            f"unknown field '{path[-1]}'",
            key=True,
            expected=f"one of: {', '.join(options)}" if options else None,
            suggestion=_suggest(str(path[-1]), options),
        )
    if typ == "missing":
        return src.error(path, f"missing required field '{path[-1]}'", key=True)
    if typ == "union_tag_invalid":
        tags = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",")]
        return src.error(
            (*path, "kind"),
            f"unknown obligation kind '{ctx.get('tag')}'",
            expected="one of: " + ", ".join(tags),
            suggestion=_suggest(str(ctx.get("tag")), tags),
        )
    if typ == "union_tag_not_found":
        return src.error(path, "missing required field 'kind'", key=True)
    if typ == "literal_error":
        options = [o.strip().strip("'") for o in str(ctx.get("expected", "")).replace(" or ", ",").split(",")]
        suggestion = _suggest(str(value), options)
        period = str(value).removeprefix("treaty-").removeprefix("treaty ")
        if path[-1] == "per" and period != str(value) and period in options:
            # treaty years are years counted from entry into force, not another kind of period
            suggestion = f"treaty {period}s: write per: {period} with from: entry-into-force"
        return src.error(
            path,
            f"'{value}' is not allowed",
            expected="one of: " + ", ".join(options),
            suggestion=suggestion,
        )
    if typ in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        sign = "≥" if typ == "greater_than_equal" else ">"
        return src.error(path, f"{value} is out of range", expected=f"a value {sign} {bound}")
    if typ == "string_pattern_mismatch":
        return src.error(
            path, f"'{value}' is not a valid identifier here", expected=f"text matching {ctx.get('pattern')}"
        )
    if typ == "too_short" and ctx.get("min_length") == 1 and isinstance(value, list):
        return src.error(path, "needs at least one entry", expected="a non-empty list")
    if typ in ("too_short", "too_long"):
        return src.error(path, err["msg"].lower())
    if typ in _EXPECTED:
        return src.error(path, f"got {value!r}", expected=_EXPECTED[typ])
    if typ == "value_error":
        return src.error(path, str(ctx.get("error", err["msg"])))
    return src.error(path, err["msg"])


def _validate(src: Source, root: type[BaseModel]) -> Any:
    if not isinstance(src.data, dict):
        raise src.error((), "the file must be a mapping of fields (agreement:, title:, ...)")
    try:
        return root.model_validate(src.data)
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelt required field is two errors: unknown 'maximum' and missing 'max'. The missing
        # one sorts first (it is placed at the enclosing mapping), but the unknown one, with its
        # did-you-mean, is what the author needs to see.
        paths = [_data_path(src.data, e["loc"]) for e in errors]
        unknown = [p for p, e in zip(paths, errors, strict=True) if e["type"] == "extra_forbidden" and p]

        def misspelt(p: Path_) -> bool:
            return any(u[:-1] == p[:-1] and _suggest(str(u[-1]), [str(p[-1])]) for u in unknown)

        errors = [e for p, e in zip(paths, errors, strict=True) if not (e["type"] == "missing" and p
                                                                            and misspelt(p))]
        # the first error in file order is the one to fix first
        located = [(_schema_error(src, root, e), e) for e in errors]
        located.sort(key=lambda x: (x[0].line or 0, x[0].column or 0))
        raise located[0][0] from None


# ---------------------------------------------------------------- meaning


class _Resolver:
    def __init__(self, src: Source, doc: schema.AgreementDoc, path: Path) -> None:
        self.src = src
        self.doc = doc
        self.dir = path.parent
        self.attributes: dict[str, model.Attribute] = {
            n: model.Attribute(n, t) for n, t in CORE_ATTRIBUTES.items()}
        self.categories: dict[str, model.Category] = {}
        self.named: dict[str, str] = {}
        self.zones: dict[str, model.Zone] = {}
        self.sites: dict[str, model.Site] = {}
        self.party_ids = [p.id for p in doc.parties]
        self.host_ids = [h.id for h in doc.hosts]
        self.vocab: Vocabulary | None = None

    # definitions may come from several files; a name defined twice must be defined the same way
    def add_definitions(self, src: Source, defs: schema.DefinitionsDoc, base: Path_) -> None:
        for name, a in defs.attributes.items():
            if name in BUILTIN_NAMES:
                raise src.error(
                    (*base, "attributes", name), f"'{name}' is built in; choose another name", key=True
                )
            if a.type == ENUM and not a.values:
                raise src.error(
                    (*base, "attributes", name, "type"), "an enum needs its values", expected="values: [...]"
                )
            attr = model.Attribute(name, a.type, frozenset(a.values) if a.values else None, a.unit)
            if name in self.attributes and self.attributes[name] != attr:
                raise src.error(
                    (*base, "attributes", name), f"attribute '{name}' is defined twice, differently", key=True
                )
            self.attributes[name] = attr
        for cname, c in defs.categories.items():
            cpath = (*base, "categories", cname)
            for i, an in enumerate(c.attributes):
                if an not in self.attributes:
                    raise src.error(
                        (*cpath, "attributes", i),
                        f"undefined attribute '{an}'",
                        suggestion=_suggest(an, list(self.attributes)),
                    )
            for an, v in c.defaults.items():
                if an not in self.attributes:
                    raise src.error(
                        (*cpath, "defaults", an),
                        f"undefined attribute '{an}'",
                        key=True,
                        suggestion=_suggest(an, list(self.attributes)),
                    )
                self._check_value(src, (*cpath, "defaults", an), an, v)
            cat = model.Category(cname, tuple(c.attributes), dict(c.defaults))
            if cname in self.categories and self.categories[cname] != cat:
                raise src.error(cpath, f"category '{cname}' is defined twice, differently", key=True)
            self.categories[cname] = cat
        for sname, text in defs.selectors.items():
            self.named[sname] = text

    def _check_value(self, src: Source, path: Path_, attr: str, v: Any) -> None:
        a = self.attributes[attr]
        ok = {
            NUMBER: isinstance(v, (int, float)) and not isinstance(v, bool),
            INTEGER: isinstance(v, int) and not isinstance(v, bool),
            BOOL: isinstance(v, bool),
            STRING: isinstance(v, str),
            ENUM: isinstance(v, str) and a.values is not None and v in a.values,
            LIST: isinstance(v, list) and all(isinstance(x, str) for x in v),
        }[a.type]
        if not ok:
            exp = {ENUM: "one of: " + ", ".join(sorted(a.values or ()))}.get(
                a.type, f"a value of type {a.type}"
            )
            sug = _suggest(v, sorted(a.values or ())) if a.type == ENUM and isinstance(v, str) else None
            raise src.error(path, f"{v!r} does not fit attribute '{attr}'", expected=exp, suggestion=sug)

    def finish_vocabulary(self) -> Vocabulary:
        for cat in self.categories.values():  # list-of-category attributes must name categories
            for an, v in cat.defaults.items():
                if self.attributes[an].type == LIST and an == "can_launch":
                    for x in v:
                        if x not in self.categories:
                            raise self.src.error(
                                ("definitions",),
                                f"category '{cat.name}' can_launch names undefined category '{x}'",
                                suggestion=_suggest(x, list(self.categories)),
                            )
        self.vocab = Vocabulary(
            types={n: a.type for n, a in self.attributes.items()},
            enums={n: a.values for n, a in self.attributes.items() if a.values is not None},
            categories=frozenset(self.categories),
        )
        return self.vocab

    def selector(self, path: Path_, text: str) -> Selector:
        assert self.vocab is not None
        src_text = text
        if text.strip().startswith("$"):
            ref = text.strip()[1:]
            if ref not in self.named:
                raise self.src.error(
                    path, f"unknown named selector '${ref}'", suggestion=_suggest(ref, list(self.named))
                )
            src_text = self.named[ref]
        try:
            return compile_selector(src_text, self.vocab)
        except SelectorSyntaxError as exc:
            # the offset counts from the stripped text; point inside the value only where the file
            # holds it on one line (block and multi-line scalars: the mark of the value itself)
            lead = len(text) - len(text.lstrip())
            inline = self.src.inline.get(path)
            raise self.src.error(
                path,
                f'{exc} in selector "{src_text}"',
                suggestion=exc.suggestion,
                column_offset=inline + lead + exc.offset if src_text == text and inline is not None else 0,
            ) from None

    def party(self, path: Path_, pid: str, *, hosts: bool = False) -> str:
        known = self.party_ids + (self.host_ids if hosts else [])
        if pid not in known:
            raise self.src.error(
                path,
                f"'{pid}' is not a party to this agreement",
                expected="one of: " + ", ".join(known),
                suggestion=_suggest(pid, known),
            )
        return pid

    def zone(self, src: Source, path: Path_, zid: str, z: schema.ZoneDoc, base_dir: Path) -> model.Zone:
        from detente import geo

        given = [k for k in ("builtin", "geojson", "polygon") if getattr(z, k) is not None]
        if len(given) != 1:
            raise src.error(path, "a zone needs exactly one of builtin, geojson, polygon", key=True)
        try:
            if z.builtin is not None:
                geom = geo.load_builtin(z.builtin)
            elif z.geojson is not None:
                gpath = base_dir / z.geojson
                geom = geo.load_geojson(gpath)
            else:
                ring = z.polygon or []
                geom = geo.load_geojson({"type": "Polygon", "coordinates": [ring]})
        except ConfigError as exc:
            field = given[0]
            raise src.error((*path, field), f"invalid zone: {exc.message}") from None
        return model.Zone(zid, geom, z.description)

    def site(self, src: Source, path: Path_, d: schema.SiteDoc) -> model.Site:
        self.party((*path, "owner"), d.owner)
        lon, lat = d.location
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise src.error(
                (*path, "location"),
                f"{d.location} is not a place on Earth",
                expected="[longitude, latitude] with -180..180, -90..90",
            )
        site = model.Site(d.id, d.name, d.owner, d.host, d.kind, float(lon), float(lat))
        if d.id in self.sites and self.sites[d.id] != site:
            raise src.error((*path, "id"), f"site '{d.id}' is defined twice, differently")
        self.sites[d.id] = site
        return site


def _sources(v: str | list[str] | None) -> tuple[str, ...]:
    if v is None:
        return ()
    return (v,) if isinstance(v, str) else tuple(v)


#: The shipped scenario data (its vocabularies and site lists): includable from anywhere.
SHIPPED = (Path(__file__).resolve().parent.parent / "scenarios").resolve()


def _outside(target: Path, roots: Sequence[Path]) -> bool:
    """Whether `target`, symlinks resolved, lies outside every root (each already resolved)."""
    try:
        real = target.resolve()
    except ValueError:  # a NUL byte: not a path at all, refused below as not found
        return False
    except (OSError, RuntimeError):  # a symlink loop
        return True
    return not any(real.is_relative_to(r) for r in roots)


def load_agreement(path: str | Path, *, allow_outside: bool = False) -> model.Agreement:
    """Read, validate and resolve one agreement file. Raises AgreementError, located.

    `include:` may name files in the agreement's folder or below it, or the shipped scenario
    vocabularies, symlinks resolved; anything else (an absolute path, `../` out of the folder, a
    symlink pointing out) is refused unless `allow_outside` (`agreement validate
    --allow-include-outside`): an agreement from the other side should not read arbitrary files.
    """
    p = Path(path)
    src = read_yaml(p)
    doc: schema.AgreementDoc = _validate(src, schema.AgreementDoc)
    r = _Resolver(src, doc, p)

    seen = set()
    for i, pd in enumerate(doc.parties):
        if pd.id in seen:
            raise src.error(("parties", i, "id"), f"party '{pd.id}' is listed twice")
        seen.add(pd.id)
    if doc.proposed_by is not None:
        r.party(("proposed_by",), doc.proposed_by)
    if doc.entry_into_force and doc.signed and doc.entry_into_force < doc.signed:
        raise src.error(("entry_into_force",), "enters into force before it is signed")
    if doc.expires and doc.entry_into_force and doc.expires <= doc.entry_into_force:
        raise src.error(("expires",), "expires before it enters into force")

    includes: list[tuple[Source, schema.IncludeDoc, Path]] = []
    roots = (p.parent.resolve(), SHIPPED)
    for i, inc in enumerate(doc.include):
        ipath = p.parent / inc
        if not allow_outside and _outside(ipath, roots):
            raise src.error(("include", i), f"included file '{inc}' is outside the folder of {p.name}",
                            expected="a file in that folder or below it, or a shipped vocabulary",
                            suggestion="copy it next to the agreement; if you trust it where it is, "
                            "pass --allow-include-outside (allow_outside=True)")
        if not ipath.is_file():
            raise src.error(("include", i), f"included file '{inc}' not found next to {p.name}")
        isrc = read_yaml(ipath)
        includes.append((isrc, _validate(isrc, schema.IncludeDoc), ipath))

    for isrc, idoc, _ in includes:
        r.add_definitions(isrc, idoc.definitions, ("definitions",))
    r.add_definitions(src, doc.definitions, ("definitions",))
    vocab = r.finish_vocabulary()
    del vocab
    for name, text in r.named.items():
        r.selector(("definitions", "selectors", name), text)

    for isrc, idoc, ipath in includes:
        for zid, z in idoc.zones.items():
            r.zones[zid] = r.zone(isrc, ("zones", zid), zid, z, ipath.parent)
    for zid, z in doc.zones.items():
        r.zones[zid] = r.zone(src, ("zones", zid), zid, z, p.parent)
    for isrc, idoc, _ in includes:
        for i, sd in enumerate(idoc.sites):
            if sd.owner in r.party_ids:
                r.site(isrc, ("sites", i), sd)
    for i, sd in enumerate(doc.sites):
        r.site(src, ("sites", i), sd)

    ids = [o.id for o in doc.obligations]
    obligations: list[model.Obligation] = []
    for i, od in enumerate(doc.obligations):
        obligations.append(_obligation(r, ("obligations", i), od, ids))
    dup = {x for x in ids if ids.count(x) > 1}
    if dup:
        j = max(i for i, x in enumerate(ids) if x in dup)
        raise src.error(("obligations", j, "id"), f"obligation id '{ids[j]}' is used twice")

    return model.Agreement(
        id=doc.agreement,
        title=doc.title,
        file=str(p),
        files=(str(p), *(str(ip) for _, _, ip in includes)),
        legal_status=doc.legal_status,
        parties=tuple(model.Party(x.id, x.name) for x in doc.parties),
        hosts=tuple(model.Party(x.id, x.name) for x in doc.hosts),
        attributes=r.attributes,
        categories=r.categories,
        vocabulary=r.vocab or r.finish_vocabulary(),
        zones=r.zones,
        sites=r.sites,
        obligations=tuple(obligations),
        proposed_by=doc.proposed_by,
        proposed_on=doc.proposed_on,
        signed=doc.signed,
        entry_into_force=doc.entry_into_force,
        expires=doc.expires,
        withdrawal=model.Withdrawal(doc.withdrawal.clause, doc.withdrawal.notice_days, doc.withdrawal.text)
        if doc.withdrawal
        else None,
        source=_sources(doc.source),
        unmodelled=tuple(model.Unmodelled(u.clause, u.text, u.reason, _sources(u.source))
                         for u in doc.unmodelled),
    )


def _numeric(r: _Resolver, path: Path_, attr: str) -> str:
    if attr not in r.attributes:
        raise r.src.error(
            path, f"undefined attribute '{attr}'", suggestion=_suggest(attr, list(r.attributes))
        )
    if r.attributes[attr].type not in (NUMBER, INTEGER):
        raise r.src.error(path, f"cannot sum '{attr}': it is {r.attributes[attr].type}, not a number")
    return attr


def _assumptions(
    r: _Resolver, path: Path_, items: Sequence[schema.Assumption]
) -> tuple[tuple[Selector, dict[str, Any]], ...]:
    out = []
    for j, a in enumerate(items):
        sel = r.selector((*path, j, "where"), a.where)
        for an, v in a.set.items():
            if an not in r.attributes or an in BUILTIN_NAMES:
                raise r.src.error(
                    (*path, j, "set", an),
                    f"cannot set '{an}'",
                    key=True,
                    suggestion=_suggest(an, list(r.attributes)),
                )
            r._check_value(r.src, (*path, j, "set", an), an, v)
        out.append((sel, dict(a.set)))
    return tuple(out)


def _counting(
    r: _Resolver, path: Path_, items: Sequence[schema.CountingRule]
) -> tuple[tuple[Selector, int], ...]:
    return tuple((r.selector((*path, j, "where"), c.where), c.counts_as) for j, c in enumerate(items))


def _obligation(r: _Resolver, path: Path_, od: Any, ids: list[str]) -> model.Obligation:
    src = r.src
    parties = tuple(r.party((*path, "parties", j), x) for j, x in enumerate(od.parties or [])) or tuple(
        r.party_ids
    )
    conds = []
    for j, c in enumerate(od.conditions):
        cpath = (*path, "conditions", j)
        given = [k for k in ("reciprocal", "after", "before") if getattr(c, k) is not None]
        if not given:
            raise src.error(
                cpath,
                "a condition names an obligation (reciprocal:) or a date (after:, before:)",
                expected="reciprocal: OBLIGATION-ID, after: DATE or before: DATE",
            )
        if c.reciprocal is not None:
            if len(given) > 1:
                raise src.error(cpath, "a reciprocal condition stands alone; write date windows separately")
            if c.reciprocal not in ids:
                raise src.error(
                    (*cpath, "reciprocal"),
                    f"condition names no obligation: '{c.reciprocal}'",
                    expected="the id of an obligation in this agreement",
                    suggestion=_suggest(c.reciprocal, ids),
                )
        conds.append(model.Condition(c.reciprocal, c.after, c.before, c.note))
    for pid in od.interpretations:
        r.party((*path, "interpretations", pid), pid)
    common = dict(
        id=od.id,
        kind=od.kind,
        clause=od.clause,
        text=od.text,
        source=_sources(od.source),
        parties=parties,
        conditions=tuple(conds),
    )

    if od.kind in ("limit", "ban", "zone"):
        if od.kind == "zone" and (od.zone is None) == (od.sites is None):
            raise src.error(path, "a zone rule needs exactly one of zone: or sites:")
        if od.zone is not None and od.sites is not None:
            raise src.error((*path, "sites"), f"a {od.kind} applies in a zone: or at sites:, not both",
                            key=True)
        if od.zone is not None or od.sites is not None:
            if od.zone is not None and od.zone not in r.zones:
                raise src.error(
                    (*path, "zone"),
                    f"undefined zone '{od.zone}'",
                    expected="a zone defined under zones:",
                    suggestion=_suggest(od.zone, list(r.zones)),
                )
            _check_sites(r, (*path, "sites"), od.sites or [])
        base_sum = _numeric(r, (*path, "sum"), od.sum) if getattr(od, "sum", None) else None
        base = model.Reading(
            by=None,
            text=od.text,
            select=r.selector((*path, "select"), od.select),
            sum=base_sum,
            counting=_counting(r, (*path, "counting"), getattr(od, "counting", [])),
            assume=_assumptions(r, (*path, "assume"), od.assume),
            max=0 if od.kind != "limit" else od.max,
            source=_sources(od.source),
        )
        if od.kind == "limit" and base.counting and base.sum is None:
            raise src.error((*path, "counting"), "counting rules apply to a sum; add sum: ATTRIBUTE")
        readings = [base]
        for pid, it in od.interpretations.items():
            ip = (*path, "interpretations", pid)
            if od.kind != "limit" and (it.sum is not None or it.counting or it.max is not None):
                raise src.error(ip, f"a {od.kind} has no sum, counting or max to reinterpret")
            readings.append(
                model.Reading(
                    by=pid,
                    text=it.reading,
                    select=r.selector((*ip, "select"), it.select) if it.select else base.select,
                    sum=_numeric(r, (*ip, "sum"), it.sum) if it.sum else base.sum,
                    counting=_counting(r, (*ip, "counting"), it.counting)
                    if it.counting is not None
                    else base.counting,
                    assume=_assumptions(r, (*ip, "assume"), it.assume)
                    if it.assume is not None
                    else base.assume,
                    max=it.max if it.max is not None else base.max,
                    source=_sources(it.source),
                )
            )
        if len(readings) > 1 and set(od.interpretations) >= set(parties):
            # every bound party has said how it reads the rule: those readings are what is evaluated;
            # while some party has not, the agreed text stays as that party's reading
            readings = readings[1:]
        return model.Counted(
            **common,
            readings=tuple(readings),
            zone=od.zone,
            sites=tuple(od.sites) if od.sites is not None else None,
        )

    if od.interpretations:
        raise src.error(
            (*path, "interpretations"),
            f"interpretations apply to limits, bans and zones, not {od.kind}",
            key=True,
        )

    if od.kind == "capability":
        if (od.sites is None) == (od.zone is None):
            raise src.error(path, "a capability rule needs exactly one of sites: or zone:", key=False)
        if od.zone is not None and od.zone not in r.zones:
            raise src.error(
                (*path, "zone"), f"undefined zone '{od.zone}'", suggestion=_suggest(od.zone, list(r.zones))
            )
        _check_sites(r, (*path, "sites"), od.sites or [])
        launcher = r.selector((*path, "launcher"), od.launcher)
        banned = r.selector((*path, "banned"), od.banned)
        banned_cats = _categories_matching(r, banned)
        if not any("can_launch" in c.defaults for c in r.categories.values()):
            raise src.error((*path, "launcher"), "no category says what it can launch (defaults: can_launch)")
        return model.Capability(
            **common,
            launcher=launcher,
            banned=banned,
            banned_categories=banned_cats,
            sites=tuple(od.sites) if od.sites else None,
            zone=od.zone,
            presumption=od.presumption,
        )

    if od.kind == "notify":
        if (od.within_days is None) == (od.advance_days is None):
            raise src.error(path, "a notification rule needs exactly one of within_days: or advance_days:")
        sel = r.selector((*path, "select"), od.select) if od.select else None
        return model.Notify(
            **common, event=od.event, within_days=od.within_days, advance_days=od.advance_days, select=sel
        )

    if od.kind == "inspection":
        r.party((*path, "inspecting"), od.inspecting)
        r.party((*path, "inspected"), od.inspected)
        if od.inspecting == od.inspected:
            raise src.error((*path, "inspected"), "a party does not inspect itself")
        for j, sid in enumerate(od.sites or []):
            if sid not in r.sites:
                raise src.error(
                    (*path, "sites", j), f"undefined site '{sid}'", suggestion=_suggest(sid, list(r.sites))
                )
            if r.sites[sid].owner != od.inspected:
                raise src.error(
                    (*path, "sites", j),
                    f"site '{sid}' belongs to {r.sites[sid].owner}, not the inspected party {od.inspected}",
                )
        methods = [od.selection] if isinstance(od.selection, str) else list(od.selection)
        if len(set(methods)) != len(methods):
            raise src.error((*path, "selection"), "a selection method is listed twice")
        if "joint-random" in methods and not (od.sites or od.site_kinds):
            raise src.error((*path, "selection"), "a joint random draw needs the pool: sites: or site_kinds:")
        if od.weights and "joint-random" not in methods:
            raise src.error((*path, "weights"), "weights apply to joint-random selection only", key=True)
        pool_kinds = (
            {r.sites[x].kind for x in od.sites} if od.sites
            else {x.kind for x in r.sites.values()
                  if x.owner == od.inspected and x.kind in set(od.site_kinds or ())}
        )
        if "joint-random" in methods and not pool_kinds:
            raise src.error((*path, "site_kinds"), f"the draw's pool is empty: {od.inspected} owns no "
                            "site of these kinds in this agreement's sites")
        for kind_, w in (od.weights or {}).items():
            if kind_ not in pool_kinds:
                raise src.error((*path, "weights", kind_), f"no site of kind '{kind_}' is in the pool",
                                suggestion=_suggest(kind_, sorted(pool_kinds)), key=True)
            try:
                weight_units(w)
            except WeightError as exc:
                raise src.error((*path, "weights", kind_), exc.message) from exc
        if od.reveal_hours is not None and "joint-random" not in methods:
            raise src.error((*path, "reveal_hours"), "reveal_hours applies to joint-random selection only",
                            key=True)
        anchor: dt.date | None = None
        if od.quota.start == "entry-into-force":
            anchor = r.doc.entry_into_force
            if anchor is None:
                raise src.error((*path, "quota", "from"), "quota periods from entry into force need the "
                                "agreement's entry_into_force: date")
        elif isinstance(od.quota.start, dt.date):
            anchor = od.quota.start
        return model.Inspection(
            **common,
            inspecting=od.inspecting,
            inspected=od.inspected,
            quota_count=od.quota.count,
            quota_per=od.quota.per,
            quota_anchor=anchor,
            notice_hours=od.notice_hours,
            selection=methods[0],
            selections=tuple(methods),
            reveal_hours=od.reveal_hours if od.reveal_hours is not None else 24,
            site_kinds=tuple(od.site_kinds) if od.site_kinds else None,
            sites=tuple(od.sites) if od.sites else None,
            weights=od.weights,
            purpose=od.purpose,
        )

    assert od.kind == "exchange"
    cut = []
    for j, md in enumerate(od.as_of):
        mo, day = int(md[:2]), int(md[3:])
        try:
            dt.date(2000, mo, day)  # 2000 is a leap year: 02-29 is accepted
        except ValueError:
            raise src.error((*path, "as_of", j), f"'{md}' is not a month-day", expected="MM-DD") from None
        cut.append((mo, day))
    return model.Exchange(**common, as_of=tuple(sorted(cut)), due_days=od.due_days)


def _check_sites(r: _Resolver, path: Path_, sites: Sequence[str]) -> None:
    for j, sid in enumerate(sites):
        if sid not in r.sites:
            raise r.src.error(
                (*path, j),
                f"undefined site '{sid}'",
                expected="a site defined under sites:",
                suggestion=_suggest(sid, list(r.sites)),
            )


def _categories_matching(r: _Resolver, sel: Selector) -> frozenset[str]:
    """Evaluate a selector over the category definitions themselves (their default attributes)."""
    from detente.agreement.table import HoldingsTable

    cats = list(r.categories.values())
    rows = [{"category": c.name, "attributes": dict(c.defaults)} for c in cats]
    table = HoldingsTable.from_items(rows, r.attributes, r.categories, {})
    mask = sel.mask(table)
    return frozenset(c.name for c, hit in zip(cats, mask, strict=True) if hit)
