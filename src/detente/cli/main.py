"""The `detente` command. Thin: parse options, call the library, print a table or JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from detente.cli import analysis as analysis_cli
from detente.cli import desk as inspection_cli
from detente.cli import negotiate as negotiate_cli
from detente.cli.options import AllowOutsideOpt, DbOpt, JsonOpt, WorkspaceOpt, err, fail, out, parse_at
from detente.cli.options import emit as _emit
from detente.codec import b64
from detente.envelope.keys import SigningKey, read_private_key, write_private_key
from detente.errors import DetenteError, RecordRefused
from detente.fsutil import atomic_write, mkdir_with_mode
from detente.log.bundle import export_bundle, verify_bundle, verify_store
from detente.log.receipt import Receipt
from detente.log.trust import operator_verifier
from detente.model.parties import PartyKey, Role
from detente.workspace import Workspace

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Détente: signed records, a witnessed log, compliance evidence.")
log_app = typer.Typer(no_args_is_help=True, help="The append-only, witnessed log.")
app.add_typer(log_app, name="log")

KnownAtOpt = Annotated[str | None, typer.Option(
    "--known-at", help="Use only records signed by then (RFC 3339, e.g. 2022-03-31T00:00:00Z).")]


def _passphrase(encrypt: bool) -> bytes | None:
    if not encrypt:
        return None
    env = os.environ.get("DETENTE_PASSPHRASE")
    if env:
        return env.encode()
    p = typer.prompt("Passphrase", hide_input=True, confirmation_prompt=True)
    return str(p).encode()


@app.command()
def keygen(
    party: str,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the key files.")],
    role: Annotated[list[Role], typer.Option(help="Roles for this key (repeatable).")] = [  # noqa: B006
        Role.DECLARANT, Role.INSPECTOR],
    note_name: Annotated[str | None, typer.Option(help="C2SP note name (witness keys).")] = None,
    encrypt: Annotated[bool, typer.Option(
        help="Encrypt the private key with a passphrase (prompted, or DETENTE_PASSPHRASE).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Make an Ed25519 key pair: PARTY.key (mode 0600) and PARTY.pub.json."""
    try:
        from detente.model.parties import check_note_name, check_party_id

        check_party_id(party)
        roles = frozenset(role)
        if Role.WITNESS in roles:
            if note_name is None:
                raise DetenteError("a witness key needs --note-name (e.g. witness.us.example)")
            check_note_name(note_name)
        stem = f"{party}-witness" if Role.WITNESS in roles else party
        key = SigningKey.generate()
        write_private_key(out_dir / f"{stem}.key", key, _passphrase(encrypt))
        pub = {"party": party, **PartyKey(key.public_key, roles, note_name).to_json()}
        # 0644 whatever the umask (write_private_key made out_dir 0700 if it was missing).
        atomic_write(out_dir / f"{stem}.pub.json", (json.dumps(pub, indent=2) + "\n").encode())
    except DetenteError as exc:
        fail(exc, as_json)
    if as_json:
        _emit({**pub, "ok": True, "private_key_file": str(out_dir / f"{stem}.key"),
               "public_key_file": str(out_dir / f"{stem}.pub.json")})
    else:
        out.print(f"wrote {out_dir / (stem + '.key')} (0600) and {out_dir / (stem + '.pub.json')}")
        out.print(f"key id {pub['keyid']}")


@app.command()
def init(
    workspace: WorkspaceOpt,
    origin: Annotated[str, typer.Option(help="Log origin (C2SP checkpoint origin line).")] = (
        "detente.example/log"),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a workspace: a log operator key, an empty registry and an empty log."""
    try:
        # Not group/world-writable whatever the umask: Workspace.open refuses such a directory.
        mkdir_with_mode(workspace, 0o755)
        ws = Workspace.create(workspace, origin, db_url=db)
        reg = ws.registry()
    except DetenteError as exc:
        fail(exc, as_json)
    v = operator_verifier(reg).vkey
    if as_json:
        _emit({"ok": True, "workspace": str(workspace), "origin": origin, "operator_vkey": v})
    else:
        out.print(f"workspace {workspace}: log {origin}, operator key {v}")


@app.command("party")
def party_add(
    party: str,
    workspace: WorkspaceOpt,
    name: Annotated[str | None, typer.Option(help="Full name.")] = None,
    public_key: Annotated[list[Path], typer.Option(
        help="PARTY.pub.json from `detente keygen` (repeatable); default: generate keys here.")
    ] = [],  # noqa: B006
    witness_name: Annotated[str | None, typer.Option(
        help="Also make a witness key with this C2SP note name.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a party and its keys in the workspace registry."""
    from detente.model.parties import Party

    try:
        ws = Workspace.open(workspace)
        if public_key:
            reg = ws.registry()
            keys = tuple(
                PartyKey.from_json(json.loads(p.read_text()), where=str(p)) for p in public_key
            )
            reg.add_party(Party(party, name or party, keys))
            ws.save_registry(reg)
        else:
            ws.add_party(party, name or party, roles=frozenset({Role.DECLARANT, Role.INSPECTOR}),
                         witness_name=witness_name)
        p = ws.registry().parties[party]
        if any(Role.WITNESS in k.roles for k in p.keys):
            from detente.log.witness import initialise_new_witness

            # A new witness (key made here or by `keygen`) starts from the empty tree, so it
            # never trusts a first checkpoint by default; a lost state is refused later (see
            # `detente witness init`). DIR/witness/PARTY is where Workspace.witness keeps it.
            initialise_new_witness(ws.path / "witness" / party, ws.registry().origin)
    except DetenteError as exc:
        fail(exc, as_json)
    if as_json:
        _emit({"ok": True, **p.to_json()})
    else:
        for k in p.keys:
            out.print(f"{party}: key {k.keyid[:16]}… roles {', '.join(sorted(k.roles))}")


@app.command("sign")
def sign_cmd(
    kind: str,
    workspace: WorkspaceOpt,
    author: Annotated[str, typer.Option("--as", help="Authoring party.")],
    body: Annotated[str, typer.Option(help="Record body as JSON (or @FILE).")],
    key: Annotated[Path | None, typer.Option(help="Private key (default: workspace's).")] = None,
    seq: Annotated[int | None, typer.Option(help="Sequence number (default: next).")] = None,
) -> None:
    """Sign a record as PARTY and print its DSSE envelope (append it with `detente log append`)."""
    from datetime import UTC, datetime

    from detente.envelope.record import make_record

    try:
        ws = Workspace.open(workspace)
        reg = ws.registry()
        text = Path(body[1:]).read_text() if body.startswith("@") else body
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise DetenteError(f"--body is not JSON: {exc}") from exc
        k = read_private_key(key) if key else ws.party_key(author)
        if seq is None:
            seq = _next_seq(ws, author)
        env = make_record(kind, author, seq, data, k, log=reg.origin, signed_at=datetime.now(UTC))
    except DetenteError as exc:
        fail(exc)
    _emit(env.to_json())


def _parse_known_at(text: str | None) -> dt.datetime | None:
    from detente.model.records import parse_time

    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        raise DetenteError(f"--known-at: {exc}") from None


def _next_seq(ws: Workspace, author: str) -> int:
    store = ws.store()
    try:
        with store.writer() as txn:
            return txn.last_seq(author) + 1
    finally:
        store.close()


@log_app.command("append")
def log_append(
    workspace: WorkspaceOpt,
    files: Annotated[list[Path], typer.Argument(help="Envelope JSON files; '-' reads stdin.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Append signed envelopes; print a receipt for each, or the reason it was refused."""
    raws = [sys.stdin.buffer.read() if str(f) == "-" else f.read_bytes() for f in files]
    try:
        from detente.desk import open_log

        log = open_log(Workspace.open(workspace, db))
        results = log.append_batch(raws)
    except DetenteError as exc:
        fail(exc, as_json)
    refused = [r for r in results if isinstance(r, RecordRefused)]
    if as_json:
        _emit([r.to_json() if isinstance(r, Receipt)
               else {"refused": r.code, "message": r.message} for r in results])
    else:
        for f, r in zip(files, results, strict=True):
            if isinstance(r, Receipt):
                out.print(f"{f}: appended at index {r.index}")
            else:
                err.print(f"[red]{f}: refused[/] ({r.code}): {escape(r.message)}", highlight=False)
    raise typer.Exit(1 if refused else 0)


@log_app.command("checkpoint")
def log_checkpoint(
    workspace: WorkspaceOpt,
    cosign: Annotated[list[str], typer.Option(
        help="Have PARTY's witness cosign (repeatable; 'all' for every witness).")] = [],  # noqa: B006
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the latest signed checkpoint, after optionally collecting witness cosignatures."""
    from detente.log.cosign import collect_cosignatures

    try:
        ws = Workspace.open(workspace, db)
        log = ws.log(writable=False)
        if cosign:
            parties = [p for p, _ in log.registry.witnesses()] if "all" in cosign else cosign
            collect_cosignatures(log, {p: ws.witness(p) for p in parties})
        scp = log.latest()
    except DetenteError as exc:
        fail(exc, as_json)
    if as_json:
        _emit({"size": scp.checkpoint.size, "root": b64(scp.checkpoint.root),
               "checkpoint": scp.encode(),
               "cosigned_by": [s.name for s in scp.note.signatures[1:]]})
    else:
        sys.stdout.write(scp.encode())


@log_app.command("proof")
def log_proof(
    workspace: WorkspaceOpt,
    index: int,
    size: Annotated[int | None, typer.Option(help="Against this size (default: latest).")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print an inclusion proof for leaf INDEX against the latest checkpoint."""
    from detente.log.receipt import verify_receipt

    try:
        log = Workspace.open(workspace, db).log(writable=False)
        r = log.inclusion_proof(index, size)
        verify_receipt(r, log.leaf(index), log.operator, log.origin)
    except DetenteError as exc:
        fail(exc, as_json)
    if as_json:
        _emit(r.to_json())
    else:
        out.print(f"leaf {index}, tree size {r.checkpoint.splitlines()[1]}; proof (bottom-up):")
        for p in r.proof:
            out.print(f"  {b64(p)}")
        out.print("checkpoint:")
        sys.stdout.write(r.checkpoint)


@log_app.command("export")
def log_export(
    workspace: WorkspaceOpt,
    out_dir: Annotated[Path, typer.Argument(help="New directory for the bundle.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a bundle (checkpoint, entries.jsonl, keys.json) for offline verification."""
    try:
        ws = Workspace.open(workspace, db)
        n = export_bundle(ws.store(), ws.registry(), out_dir)
    except DetenteError as exc:
        fail(exc, as_json)
    if as_json:
        _emit({"ok": True, "entries": n, "bundle": str(out_dir)})
    else:
        out.print(f"exported {n} entries to {out_dir}")


@log_app.command("verify")
def log_verify(
    path: Annotated[Path, typer.Argument(help="A workspace or a bundle directory.")],
    quorum: Annotated[int | None, typer.Option(
        help="Witness cosignatures required (default: all registered).")] = None,
    workers: Annotated[int | None, typer.Option(help="Processes (default: all cores).")] = None,
    keys: Annotated[Path | None, typer.Option(
        help="Trusted keys.json (the registry you hold); default: the one in PATH.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute every hash and check every signature; exit 0 only if all hold."""
    from detente.model.parties import Registry

    try:
        trusted = None
        if keys is not None:
            try:
                trusted = Registry.from_json(json.loads(keys.read_text()))
            except (OSError, ValueError) as exc:
                raise DetenteError(f"cannot read trusted keys {keys}: {exc}") from exc
        if (path / "entries.jsonl").exists():
            report = verify_bundle(path, trusted=trusted, workers=workers, quorum=quorum)
            reg = trusted or Registry.from_json(json.loads((path / "keys.json").read_text()))
        else:
            ws = Workspace.open(path, db)
            reg = ws.registry()
            if trusted is not None and trusted.to_json() != reg.to_json():
                raise DetenteError("the workspace registry differs from the trusted keys")
            report = verify_store(ws.store(), reg, workers=workers, quorum=quorum)
    except DetenteError as exc:
        fail(exc, as_json, code=2)
    operator = operator_verifier(reg).vkey
    if as_json:
        _emit({**report.to_json(), "operator_vkey": operator, "trusted_keys": keys is not None})
    elif report.ok:
        out.print(
            f"[green]OK[/]: {report.entries} entries, checkpoint size {report.size}, root "
            f"{b64(report.root)}; cosigned by {', '.join(report.cosigned_by) or 'no witness'}; "
            f"{report.checkpoints} historic checkpoints consistent", highlight=False,
        )
        note = "" if keys else " (from PATH itself: pass --keys with the registry you trust)"
        out.print(f"log operator key {operator}{note}", highlight=False, soft_wrap=True)
    else:
        where = f" at leaf {report.index}" if report.index is not None else ""
        err.print(f"[bold red]FAILED[/]{where}: {escape(str(report.error))}", highlight=False)
    raise typer.Exit(0 if report.ok else 1)


witness_app = typer.Typer(no_args_is_help=True, help="A party's witness and its trusted state.")
app.add_typer(witness_app, name="witness")


@witness_app.command("init")
def witness_init(
    party: str,
    workspace: WorkspaceOpt,
    checkpoint: Annotated[Path, typer.Option(
        help="The checkpoint (signed note; '-' reads stdin) to vouch for, checked by hand first: "
             "the witness then cosigns only trees that extend it.")],
    replace: Annotated[bool, typer.Option(
        "--replace", help="Overwrite existing (e.g. damaged) state; the old file is kept beside it.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Re-seed PARTY's witness from a checkpoint you have checked by hand (after its state was
    lost or damaged; docs/log.md, "Witness state")."""
    from detente.errors import ConfigError, NoteError
    from detente.log.note import SignedCheckpoint, verify_cosignature
    from detente.log.trust import witness_verifiers

    try:
        try:
            text = sys.stdin.read() if str(checkpoint) == "-" else checkpoint.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read --checkpoint {checkpoint}: {exc}") from exc
        ws = Workspace.open(workspace)
        st = ws.witness(party).initialise(text, replace=replace)
        assert st.note is not None
        scp = SignedCheckpoint.parse(st.note)
        own = witness_verifiers(ws.registry())[party]
        try:
            verify_cosignature(scp.note, own)
            cosigned_before = True
        except NoteError:
            cosigned_before = False
    except DetenteError as exc:
        fail(exc, as_json)
    root = b64(scp.checkpoint.root)
    if as_json:
        _emit({"ok": True, "party": party, "size": st.size, "root": root,
               "cosigned_by_this_witness": cosigned_before})
    else:
        out.print(f"witness of {party} now vouches for size {st.size}, root {root}: it will "
                  "cosign only checkpoints that extend it", highlight=False)
        if not cosigned_before:
            err.print("[yellow]note[/]: this checkpoint does not carry this witness's own "
                      "cosignature; be sure you checked it against one it cosigned",
                      highlight=False)


agreement_app = typer.Typer(no_args_is_help=True, help="Agreements as data: validate, export the schema.")
app.add_typer(agreement_app, name="agreement")
app.add_typer(analysis_cli.app, name="analyze")
inspection_cli.register(app)
app.add_typer(negotiate_cli.app, name="negotiate")


@agreement_app.command("adopt")
def agreement_adopt(
    file: Annotated[Path, typer.Argument(help="Agreement YAML whose procedures the log will enforce.")],
    workspace: WorkspaceOpt,
    allow_include_outside: AllowOutsideOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Enforce an agreement's inspection procedure (quota, notice, draw, order) in this log."""
    try:
        ws = Workspace.open(workspace)
        ag = ws.adopt(file, allow_outside=allow_include_outside)
    except DetenteError as exc:
        fail(exc, as_json)
    if as_json:
        _emit({"ok": True, "agreement": ag.id, "files": list(ag.files)})
    else:
        out.print(f"{ag.id}: its procedures are now enforced by the log in {workspace}", highlight=False)


@agreement_app.command("schema")
def agreement_schema(
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to a file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of agreement files (for editors and CI)."""
    from detente.agreement.schema import json_schema

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if out_file:
        out_file.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@agreement_app.command("validate")
def agreement_validate(
    files: Annotated[list[Path], typer.Argument(help="Agreement YAML files.")],
    allow_include_outside: AllowOutsideOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Load agreements and report the first error in each, located (file:line:column)."""
    from detente.agreement.loader import load_agreement
    from detente.errors import AgreementError

    results: list[dict[str, Any]] = []
    for f in files:
        try:
            ag = load_agreement(f, allow_outside=allow_include_outside)
            results.append({"file": str(f), "ok": True, "agreement": ag.id,
                            "obligations": len(ag.obligations), "legal_status": ag.legal_status})
        except AgreementError as exc:
            results.append({"file": str(f), "ok": False, "error": exc.to_json(), "message": exc.message})
    if as_json:
        _emit(results)
    else:
        for r in results:
            if r["ok"]:
                out.print(f"[green]ok[/] {r['file']}: {r['agreement']}, {r['obligations']} obligations, "
                          f"{r['legal_status']}", highlight=False)
            else:
                err.print(f"[bold red]error[/] {escape(r['message'])}", highlight=False)
    raise typer.Exit(0 if all(r["ok"] for r in results) else 2)


@app.command("check")
def check_cmd(
    agreements: Annotated[list[Path], typer.Argument(help="Agreement YAML files.")],
    workspace: WorkspaceOpt,
    at: Annotated[str, typer.Option("--at", help="Evaluate the state at this date (YYYY-MM-DD).")],
    known_at: KnownAtOpt = None,
    hypothetical: Annotated[bool, typer.Option(
        "--hypothetical", help="Evaluate proposals and signed-not-ratified texts as if in force.")] = False,
    allow_include_outside: AllowOutsideOpt = False,
    fail_on: Annotated[list[str], typer.Option(
        "--fail-on", help="Exit 3 if any finding has this status (violation, unverified; repeatable): "
        "for a CI job.")] = [],  # noqa: B006
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate agreements against the log: one finding per obligation, party and reading."""
    from detente.agreement.loader import load_agreement
    from detente.cli.findings import print_findings
    from detente.compliance.check import check, read_disclosed

    try:
        when = parse_at(at)
        known = _parse_known_at(known_at)
        bad = sorted(set(fail_on) - {"violation", "unverified", "not_applicable", "compliant"})
        if bad:
            raise DetenteError(f"--fail-on takes violation, unverified, not_applicable or compliant, "
                               f"not {', '.join(bad)}")
        ags = [load_agreement(f, allow_outside=allow_include_outside) for f in agreements]
        ws = Workspace.open(workspace, db)
        result = check(ags, ws.log(writable=False), when, known_at=known, hypothetical=hypothetical,
                       disclosed=read_disclosed(ws.disclosed), enforced=ws.agreements())
    except DetenteError as exc:
        fail(exc, as_json, code=2)
    if as_json:
        _emit([f.to_json() for f in result.findings])
    else:
        print_findings(out, result.findings, f"Findings at {when}", result.checkpoint)
        for i, why in result.malformed:
            err.print(f"[yellow]unreadable record[/] #{i}: {escape(why)}", highlight=False)
        for i, why in result.void_steps:
            err.print(f"[yellow]void inspection step[/] #{i}: {escape(why)}", highlight=False)
    failing = [f for f in result.findings if f.status in fail_on]
    if failing and not as_json:
        err.print(f"{len(failing)} finding(s) with status {' or '.join(fail_on)} (--fail-on)",
                  highlight=False)
    raise typer.Exit(3 if failing else 0)


@app.command("report")
def report_cmd(
    workspace: WorkspaceOpt,
    at: Annotated[str, typer.Option("--at", help="Evaluate at this date (YYYY-MM-DD).")],
    out_file: Annotated[Path, typer.Option("--out", help="FILE.html, or FILE.pdf (printed by Chromium).")],
    agreement: Annotated[list[Path], typer.Option(
        help="Agreement to report on (repeatable; default: the workspace's adopted agreements).")
    ] = [],  # noqa: B006
    known_at: KnownAtOpt = None,
    public: Annotated[bool, typer.Option(
        "--public", help="The public edition: no sites, items or explanations from disclosed records.")
    ] = False,
    allow_include_outside: AllowOutsideOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the compliance report: per obligation and party, the finding, its evidence and proofs."""
    from detente.agreement.loader import load_agreement
    from detente.report.render import summary, write_report

    try:
        when = parse_at(at)
        known = _parse_known_at(known_at)
        ags = [load_agreement(f, allow_outside=allow_include_outside) for f in agreement] or None
        path, rep = write_report(workspace, when, out_file, agreements=ags, known_at=known, db_url=db,
                                 public=public)
    except DetenteError as exc:
        fail(exc, as_json, code=2)
    if as_json:
        _emit({"ok": True, "out": str(path), **summary(rep)})
    else:
        counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in rep.counts.items() if v)
        out.print(f"wrote {path}: {counts}", highlight=False)


@app.command("serve")
def serve_cmd(
    workspace: WorkspaceOpt,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    db: DbOpt = None,
    no_dashboard: Annotated[bool, typer.Option("--no-dashboard", help="Serve the API only.")] = False,
) -> None:
    """Serve the log over HTTP: append with a party token, proofs, findings, inspections, dashboard."""
    import uvicorn

    from detente.service.app import create_app

    try:
        ws = Workspace.open(workspace, db)
        api = create_app(ws, dashboard=not no_dashboard)
    except DetenteError as exc:
        fail(exc)
    out.print(f"serving {ws.registry().origin} on http://{host}:{port} (OpenAPI: /docs, /openapi.json)",
              highlight=False)
    uvicorn.run(api, host=host, port=port, log_level="warning")


@app.command("dashboard")
def dashboard_cmd(
    workspace: WorkspaceOpt,
    agreement: Annotated[list[Path], typer.Option(
        help="Agreement to evaluate (repeatable; default: the workspace's adopted agreements).")
    ] = [],  # noqa: B006
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    allow_include_outside: AllowOutsideOpt = False,
    db: DbOpt = None,
) -> None:
    """Serve the read-only web dashboard: map, timeline, findings with proofs checked in the page."""
    import uvicorn

    from detente.dashboard.app import create_app
    from detente.dashboard.views import Dashboard

    try:
        board = Dashboard.open(Workspace.open(workspace, db), agreement,
                               allow_outside=allow_include_outside)
    except DetenteError as exc:
        fail(exc)
    out.print(f"dashboard for {workspace} on http://{host}:{port}/dashboard/", highlight=False)
    uvicorn.run(create_app(board), host=host, port=port, log_level="warning")


@app.command()
def demo(
    workspace: Annotated[Path | None, typer.Option(
        "--workspace", "-w", help="Directory for the demo (default: a new temporary one).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the 2022 scenario end to end on SQLite and print what happened."""
    from detente.cli.demo import run_demo

    try:
        summary = run_demo(workspace, console=None if as_json else out)
    except DetenteError as exc:
        fail(exc, as_json)
    if as_json:
        _emit(summary)
    raise typer.Exit(0 if summary["verification"]["ok"] else 1)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"detente {version('detente')}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False) -> None:
    """Détente: signed records, a witnessed log, compliance evidence."""


def main() -> None:
    app()


__all__ = ["app", "main"]
