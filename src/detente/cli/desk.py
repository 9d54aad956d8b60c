"""`detente declare | disclose | notify` and `detente inspect …`: one party's verbs, one record each.

Each verb signs as `--as PARTY` (the workspace's key for it, or `--key FILE`) and appends through
the workspace's log, whose rules judge the step. Two people in two terminals, one per party, run
an inspection against the same workspace (or the same database, with `--db`).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from detente.cli.options import DbOpt, JsonOpt, WorkspaceOpt, emit, fail, out
from detente.desk.desk import Desk, InspectionError, countersigned_report, disclose
from detente.desk.log import project
from detente.envelope.keys import read_private_key
from detente.errors import DetenteError
from detente.log.receipt import Receipt
from detente.model.records import parse_time
from detente.workspace import Workspace

inspect_app = typer.Typer(no_args_is_help=True, help="Inspections: request, draw, open, report, countersign.")

AsOpt = Annotated[str, typer.Option("--as", help="The party signing this step.")]
KeyOpt = Annotated[Path | None, typer.Option("--key", help="Private key file (default: the workspace's).")]


def _desk(workspace: Path, party: str, key: Path | None, db: str | None) -> Desk:
    ws = Workspace.open(workspace, db)
    return Desk(ws, party, key=read_private_key(key) if key else None)


def _done(what: str, r: Receipt, as_json: bool, **extra: Any) -> None:
    if as_json:
        emit({"ok": True, "step": what, "index": r.index, "receipt": r.to_json(), **extra})
    else:
        more = "".join(f"; {k} {v}" for k, v in extra.items() if v is not None)
        out.print(f"logged {what} at entry {r.index}{more}", highlight=False)


def _time(text: str, what: str) -> dt.datetime:
    """RFC 3339 UTC, or +N[h|d] from now."""
    m = re.fullmatch(r"\+(\d+)([hd])", text)
    if m:
        n = int(m.group(1))
        delta = dt.timedelta(hours=n) if m.group(2) == "h" else dt.timedelta(days=n)
        return (dt.datetime.now(dt.UTC) + delta).replace(microsecond=0)
    try:
        return parse_time(text)
    except ValueError as exc:
        raise DetenteError(f"{what}: {exc} (or +48h, +3d)") from None


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DetenteError(f"cannot read {path}: {exc}") from None


# -- declarations, disclosures, notifications -----------------------------------------------------


def declare(
    file: Annotated[Path, typer.Argument(help="Declaration YAML: party, as_of, holdings, aggregates.")],
    workspace: WorkspaceOpt,
    party: Annotated[str | None, typer.Option("--as", help="Signing party (default: the file's).")] = None,
    under: Annotated[list[str], typer.Option(
        "--under", help="An adopted agreement the declaration is made under (repeatable).")
    ] = [],  # noqa: B006
    key: KeyOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Commit to a declaration record by record and log its root with the aggregates."""
    from detente.desk.declaration import read_declaration

    try:
        ws = Workspace.open(workspace, db)
        site_list = [
            {"id": s.id, "name": s.name, "host": s.host, "kind": s.kind, "owner": s.owner,
             "location": [s.lon, s.lat]}
            for a in ws.agreements() for s in a.sites.values()
        ]
        owner, body = read_declaration(file, site_list)
        signer = party or owner
        if signer != owner:
            raise DetenteError(f"{file} is {owner}'s declaration; it cannot be signed as {signer}")
        desk = Desk(ws, signer, key=read_private_key(key) if key else None)
        r, private = desk.declare(dt.date.fromisoformat(body["as_of"]), body["holdings"],
                                  sites=body["sites"], aggregates=body["aggregates"],
                                  source=body.get("source") or None,
                                  under=[*body.get("agreements", []), *under])
    except (DetenteError, ValueError) as exc:
        fail(exc if isinstance(exc, DetenteError) else DetenteError(str(exc)), as_json)
    _done("declaration", r, as_json, records=len(body["holdings"]), full_declaration=str(private))
    if not as_json:
        out.print(f"send {private} to treaty partners (`detente disclose FILE`); it stays secret "
                  "otherwise", highlight=False)


def disclose_cmd(
    file: Annotated[Path, typer.Argument(help="A partner's full declaration (from `detente declare`).")],
    workspace: WorkspaceOpt,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accept a partner's full declaration after checking it rebuilds a logged commitment."""
    try:
        index, dest = disclose(Workspace.open(workspace, db), file)
    except DetenteError as exc:
        fail(exc, as_json)
    if as_json:
        emit({"ok": True, "declaration": index, "stored": str(dest)})
    else:
        out.print(f"verified against the commitment of entry {index}; stored {dest}", highlight=False)


def notify(
    event: Annotated[str, typer.Argument(help="movement, conversion, elimination, deployment or exercise.")],
    workspace: WorkspaceOpt,
    party: AsOpt,
    event_time: Annotated[str, typer.Option("--event-time", help="When it happens (RFC 3339 or +Nh).")],
    detail: Annotated[list[str], typer.Option(
        "--detail", help="KEY=VALUE added to the notification (repeatable).")] = [],  # noqa: B006
    item: Annotated[list[str], typer.Option(
        "--item", help="CATEGORY=COUNT the event concerns (repeatable).")] = [],  # noqa: B006
    key: KeyOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Notify an event; the agreement's deadline decides whether it was on time."""
    try:
        details = {}
        for kv in detail:
            k, sep, v = kv.partition("=")
            if not sep or not k or k in ("event", "event_time", "items"):
                raise DetenteError(f"--detail {kv!r}: use KEY=VALUE (not event, event_time or items)")
            details[k] = v
        items = []
        for cat, n in _pairs(item, "--item"):
            if not n.isdigit():
                raise DetenteError(f"--item {cat}={n}: the count must be a whole number")
            items.append({"category": cat, "count": int(n)})
        r = _desk(workspace, party, key, db).notify(event, _time(event_time, "--event-time"), details, items)
    except DetenteError as exc:
        fail(exc, as_json)
    _done(f"{event} notification", r, as_json)


# -- inspections ----------------------------------------------------------------------------------


@inspect_app.command("request")
def request(
    agreement: Annotated[str, typer.Argument(help="Agreement id (adopted by the workspace).")],
    obligation: Annotated[str, typer.Argument(help="The inspection regime's obligation id.")],
    workspace: WorkspaceOpt,
    party: AsOpt,
    inspection: Annotated[str, typer.Option("--id", help="A new inspection id, e.g. US-2022-01.")],
    method: Annotated[str, typer.Option(help="challenge, unilateral or joint-random.")],
    arrival: Annotated[str, typer.Option(help="Arrival time (RFC 3339, or +48h from now).")],
    site: Annotated[str | None, typer.Option(help="The site (not for joint-random).")] = None,
    key: KeyOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Request an inspection, within the quota and the notice period."""
    try:
        r = _desk(workspace, party, key, db).request(agreement, obligation, inspection, method,
                                                     _time(arrival, "--arrival"), site)
    except DetenteError as exc:
        fail(exc, as_json)
    _done(f"request {inspection}", r, as_json)


def _step(name: str, help_: str) -> Any:
    def run(
        inspection: Annotated[str, typer.Argument(help="Inspection id.")],
        workspace: WorkspaceOpt,
        party: AsOpt,
        key: KeyOpt = None,
        db: DbOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        try:
            desk = _desk(workspace, party, key, db)
            r = {"commit": desk.commit, "reveal": desk.reveal, "open": desk.open_records,
                 "countersign": desk.countersign}[name](inspection)
            case = desk.case(inspection)
        except DetenteError as exc:
            fail(exc, as_json)
        _done(f"{name} for {inspection}", r, as_json, site=case.site, status=case.status)

    run.__doc__ = help_
    inspect_app.command(name)(run)
    return run


_step("commit", "Commit to a secret random value for the joint draw (kept under DIR/private/PARTY/).")
_step("reveal", "Reveal the committed value; when both have, the site is drawn.")
_step("open", "Open the committed declaration records of the selected site (inspected party).")
_step("countersign", "Countersign the logged report as the host's escort (inspected party).")


@inspect_app.command("default")
def default_cmd(
    inspection: Annotated[str, typer.Argument(help="Inspection id.")],
    workspace: WorkspaceOpt,
    party: AsOpt,
    other: Annotated[str, typer.Option("--party", help="The party that failed to commit or reveal.")],
    key: KeyOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record that the other party missed its commit or reveal deadline (a refusal to be inspected)."""
    try:
        r = _desk(workspace, party, key, db).claim_default(inspection, other)
    except DetenteError as exc:
        fail(exc, as_json)
    _done(f"default by {other} in {inspection}", r, as_json)


def _pairs(values: list[str], what: str) -> list[tuple[str, str]]:
    out_ = []
    for v in values:
        k, sep, rest = v.partition("=")
        if not sep or not k:
            raise DetenteError(f"{what} {v!r}: use CATEGORY=VALUE")
        out_.append((k, rest))
    return out_


@inspect_app.command("report")
def report(
    inspection: Annotated[str, typer.Argument(help="Inspection id.")],
    workspace: WorkspaceOpt,
    party: AsOpt,
    leader: Annotated[str, typer.Option(help="The team leader signing for the team.")],
    found: Annotated[list[str], typer.Option(
        help="CATEGORY=COUNT counted at the site (repeatable).")] = [],  # noqa: B006
    config: Annotated[list[str], typer.Option(
        help="CATEGORY=MISSILE,MISSILE a launcher was verified able to fire (repeatable).")] = [],  # noqa: B006
    file: Annotated[Path | None, typer.Option(
        "--file", help="YAML/JSON with found, configurations, notes (items with identifiers).")] = None,
    notes: Annotated[str | None, typer.Option(help="Free text.")] = None,
    key: KeyOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign and log what the team found at the selected site."""
    try:
        items: list[dict[str, Any]] = []
        configs: list[dict[str, Any]] = []
        if file is not None:
            data = _load(file)
            if not isinstance(data, dict):
                raise DetenteError(f"{file}: expected an object with found, configurations, notes")
            items += list(data.get("found") or [])
            configs += list(data.get("configurations") or [])
            notes = notes or data.get("notes")
        for cat, n in _pairs(found, "--found"):
            if not n.isdigit():
                raise DetenteError(f"--found {cat}={n}: the count must be a whole number")
            items.append({"category": cat, "count": int(n)})
        for cat, launch in _pairs(config, "--config"):
            configs.append({"category": cat, "can_launch": [x for x in launch.split(",") if x]})
        r = _desk(workspace, party, key, db).report(inspection, found=items, leader=leader,
                                                    configurations=configs, notes=notes)
    except DetenteError as exc:
        fail(exc, as_json)
    _done(f"report for {inspection}", r, as_json)


@inspect_app.command("ambiguity")
def ambiguity(
    inspection: Annotated[str, typer.Argument(help="Inspection id.")],
    workspace: WorkspaceOpt,
    party: AsOpt,
    subject: Annotated[str, typer.Option(help="What is in doubt, e.g. 'range of the 9M729'.")],
    text: Annotated[str, typer.Option(help="The party's account.")],
    key: KeyOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a point the report leaves in dispute, as a separate signed entry."""
    try:
        r = _desk(workspace, party, key, db).ambiguity(inspection, subject, text)
    except DetenteError as exc:
        fail(exc, as_json)
    _done(f"ambiguity on {inspection}", r, as_json)


@inspect_app.command("refuse")
def refuse(
    inspection: Annotated[str, typer.Argument(help="Inspection id.")],
    workspace: WorkspaceOpt,
    party: AsOpt,
    reason: Annotated[str, typer.Option(help="Why (it is on the record).")],
    key: KeyOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Refuse an inspection (inspected party). The evaluator records it as a violation."""
    try:
        r = _desk(workspace, party, key, db).refuse(inspection, reason)
    except DetenteError as exc:
        fail(exc, as_json)
    _done(f"refusal of {inspection}", r, as_json)


@inspect_app.command("status")
def status(
    workspace: WorkspaceOpt,
    inspection: Annotated[str | None, typer.Argument(help="One inspection (default: all).")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Where each inspection stands, recomputed from the log (including the draw)."""
    try:
        proc = project(Workspace.open(workspace, db))
        cases = [c for c in proc.cases.values() if inspection in (None, c.id)]
        if inspection is not None and not cases:
            raise InspectionError(f"there is no inspection {inspection!r} in the log")
    except DetenteError as exc:
        fail(exc, as_json)
    if as_json:
        emit({"inspections": [c.to_json() for c in cases],
              "void": [{"index": i, "reason": r} for i, r in sorted(proc.void.items())]})
        return
    t = Table(title="Inspections")
    for col in ("id", "regime", "by → of", "method", "site", "status", "report", "ambiguities"):
        t.add_column(col)
    for c in cases:
        t.add_row(c.id, f"{c.agreement}/{c.obligation}", f"{c.inspecting} → {c.inspected}", c.method,
                  c.site or "—", c.status, str(c.report.index) if c.report else "—",
                  str(len(c.ambiguities)))
    out.print(t)
    for i, why in sorted(proc.void.items()):
        out.print(f"[yellow]void step[/] at entry {i}: {why}", highlight=False)


@inspect_app.command("export")
def export(
    inspection: Annotated[str, typer.Argument(help="Inspection id.")],
    workspace: WorkspaceOpt,
    db: DbOpt = None,
) -> None:
    """Print the countersigned report: the report's DSSE envelope with both signatures."""
    try:
        case = project(Workspace.open(workspace, db)).cases.get(inspection)
        if case is None:
            raise InspectionError(f"there is no inspection {inspection!r} in the log")
        env = countersigned_report(case)
    except DetenteError as exc:
        fail(exc)
    emit(env)


def register(app: typer.Typer) -> None:
    app.command("declare")(declare)
    app.command("disclose")(disclose_cmd)
    app.command("notify")(notify)
    app.add_typer(inspect_app, name="inspect")


__all__ = ["inspect_app", "register"]

