"""Bundles: export, offline verification, and every way a copied bundle can be damaged."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from detente.envelope.keys import SigningKey
from detente.errors import ConfigError
from detente.log.bundle import export_bundle, verify_bundle
from detente.log.cosign import collect_cosignatures
from detente.log.note import SignedCheckpoint
from detente.log.sqlstore import SQLStore
from detente.model.parties import PartyKey, Registry, Role

from .conftest import LogEnv

N = 12  # records, US and RU alternately, one batch (and one checkpoint) each
CHILD = Path(__file__).with_name("child.py")


@pytest.fixture
def bundle(env: LogEnv, tmp_path: Path) -> Path:
    log = env.log()
    for raw in env.records(N):
        log.append(raw)
    collect_cosignatures(log, env.witnesses())
    out = tmp_path / "bundle"
    assert export_bundle(env.store(), env.ws.registry(), out) == N
    return out


def _lines(bundle: Path) -> list[bytes]:
    return (bundle / "entries.jsonl").read_bytes().split(b"\n")[:-1]


def _author(line: bytes) -> str:
    payload = json.loads(base64.b64decode(json.loads(line)["payload"]))
    return str(payload["author"])


def _write_lines(bundle: Path, lines: list[bytes]) -> None:
    (bundle / "entries.jsonl").write_bytes(b"".join(x + b"\n" for x in lines))


def _verify(bundle: Path, **kw: Any) -> Any:
    kw.setdefault("workers", 1)
    return verify_bundle(bundle, **kw)


def test_export_then_verify(bundle: Path, env: LogEnv) -> None:
    report = _verify(bundle)
    assert report.ok, report.error
    assert report.entries == report.size == N
    assert sorted(report.cosigned_by) == ["RU", "US"]
    assert report.witnesses == 2
    assert report.checkpoints == N
    assert _verify(bundle, trusted=env.ws.registry()).ok
    # The files are what the module docstring promises.
    lines = _lines(bundle)
    log = env.log()
    assert lines == [log.leaf(i) for i in range(N)]
    assert (bundle / "checkpoint").read_text() == log.latest().encode()
    hist = [json.loads(x)["note"] for x in (bundle / "checkpoints.jsonl").read_text().splitlines()]
    assert [SignedCheckpoint.parse(h).checkpoint.size for h in hist] == list(range(1, N + 1))
    keys = json.loads((bundle / "keys.json").read_text())
    assert set(keys["witness_vkeys"]) == {"US", "RU"}
    assert keys["log"]["vkey"].startswith(env.ws.registry().operator.note_name + "+")


def test_export_refuses_a_non_empty_directory_and_an_empty_log(env: LogEnv, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        export_bundle(env.store(), env.ws.registry(), tmp_path / "empty-log")
    env.log().append(env.record("US"))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(ConfigError):
        export_bundle(env.store(), env.ws.registry(), tmp_path / "busy")


@pytest.mark.parametrize("index", [0, 5, N - 1])
def test_changed_byte_in_a_line(bundle: Path, index: int) -> None:
    lines = _lines(bundle)
    line = bytearray(lines[index])
    pos = line.index(b'"payload":"') + 30
    line[pos] = ord("A") if line[pos] != ord("A") else ord("B")
    lines[index] = bytes(line)
    _write_lines(bundle, lines)
    report = _verify(bundle)
    assert not report.ok
    assert report.index == index, report.error


@pytest.mark.parametrize("index", [0, 4, N - 1])
def test_deleted_line(bundle: Path, index: int) -> None:
    lines = _lines(bundle)
    del lines[index]
    _write_lines(bundle, lines)
    report = _verify(bundle)
    assert not report.ok
    assert report.index == index, report.error


@pytest.mark.parametrize(("i", "j"), [(0, 1), (4, 5), (3, 6), (N - 2, N - 1)])
def test_swapped_lines_are_localised_by_the_checkpoint_history(bundle: Path, i: int, j: int) -> None:
    lines = _lines(bundle)
    # Records from different parties: each still verifies and each author's sequence still
    # increases, so only the signed history of roots can tell.
    assert _author(lines[i]) != _author(lines[j])
    lines[i], lines[j] = lines[j], lines[i]
    _write_lines(bundle, lines)
    report = _verify(bundle)
    assert not report.ok
    assert report.index == i, report.error


def test_swapped_lines_from_different_parties_pass_every_per_leaf_check(bundle: Path) -> None:
    """The control for the test above: without the historic checkpoints a swap is only caught at
    the end (the root), so the index would be 0, not the swapped line."""
    lines = _lines(bundle)
    lines[6], lines[7] = lines[7], lines[6]
    _write_lines(bundle, lines)
    (bundle / "checkpoints.jsonl").unlink()
    report = _verify(bundle)
    assert not report.ok
    assert report.index == 0


@pytest.mark.parametrize("index", [0, 7, N - 1])
def test_file_truncated_mid_line(bundle: Path, index: int) -> None:
    data = (bundle / "entries.jsonl").read_bytes()
    start = sum(len(x) + 1 for x in _lines(bundle)[:index])
    (bundle / "entries.jsonl").write_bytes(data[: start + 57])
    report = _verify(bundle)
    assert not report.ok
    assert report.index == index, report.error


def test_file_truncated_at_a_line_end(bundle: Path) -> None:
    _write_lines(bundle, _lines(bundle)[:9])
    report = _verify(bundle)
    assert not report.ok
    assert report.index == 9
    assert "missing" in (report.error or "")


def test_line_appended_beyond_the_checkpoint(bundle: Path, env: LogEnv) -> None:
    lines = _lines(bundle)
    _write_lines(bundle, [*lines, env.record("US")])
    report = _verify(bundle)
    assert not report.ok
    assert report.index == N


def _drop_cosignature(bundle: Path, name: str) -> None:
    text = (bundle / "checkpoint").read_text()
    kept = [x for x in text.split("\n") if not x.startswith(f"— {name} ")]
    assert len(kept) == len(text.split("\n")) - 1
    (bundle / "checkpoint").write_text("\n".join(kept))


def test_removed_cosignature_fails_default_quorum(bundle: Path, env: LogEnv) -> None:
    _drop_cosignature(bundle, env.ws.witness("US").name)
    report = _verify(bundle)
    assert not report.ok
    assert "US" in (report.error or "")
    report = _verify(bundle, quorum=1)
    assert report.ok, report.error
    assert report.cosigned_by == ["RU"]
    _drop_cosignature(bundle, env.ws.witness("RU").name)
    assert not _verify(bundle, quorum=1).ok
    assert _verify(bundle, quorum=0).ok


def test_forged_operator_signature(bundle: Path, env: LogEnv) -> None:
    lines = (bundle / "checkpoint").read_text().split("\n")
    op = env.ws.registry().operator.note_name
    k = next(i for i, x in enumerate(lines) if x.startswith(f"— {op} "))
    name, sig = lines[k][2:].split(" ")
    raw = bytearray(base64.b64decode(sig))
    raw[-1] ^= 0x01  # the last byte of the Ed25519 signature
    lines[k] = f"— {name} {base64.b64encode(bytes(raw)).decode()}"
    (bundle / "checkpoint").write_text("\n".join(lines))
    report = _verify(bundle, quorum=0)
    assert not report.ok
    assert "checkpoint" in (report.error or "")
    assert "does not verify" in (report.error or "")


def test_checkpoint_signed_by_another_key(bundle: Path, env: LogEnv) -> None:
    from detente.log.note import Checkpoint, sign_checkpoint

    cp = SignedCheckpoint.parse((bundle / "checkpoint").read_text()).checkpoint
    forged = sign_checkpoint(cp, env.ws.registry().operator.note_name or "", SigningKey.generate())
    (bundle / "checkpoint").write_text(forged.encode())
    assert not _verify(bundle, quorum=0).ok
    # ... and the genuine operator key over a different root is caught by the leaves.
    other = Checkpoint(cp.origin, cp.size, bytes(32))
    (bundle / "checkpoint").write_text(
        sign_checkpoint(other, env.ws.registry().operator.note_name or "",
                        env.ws.operator_key()).encode())
    report = _verify(bundle, quorum=0)
    assert not report.ok


def _swap_author_keys(bundle: Path) -> None:
    keys = json.loads((bundle / "keys.json").read_text())
    by_id = {p["id"]: p for p in keys["parties"]}
    us, ru = by_id["US"]["keys"], by_id["RU"]["keys"]
    ia = next(i for i, k in enumerate(us) if "declarant" in k["roles"])
    ib = next(i for i, k in enumerate(ru) if "declarant" in k["roles"])
    us[ia], ru[ib] = ru[ib], us[ia]
    (bundle / "keys.json").write_text(json.dumps(keys))


def test_keys_json_with_swapped_author_keys(bundle: Path, env: LogEnv) -> None:
    _swap_author_keys(bundle)
    report = _verify(bundle)
    assert not report.ok
    assert report.index == 0, report.error
    report = _verify(bundle, trusted=env.ws.registry())
    assert not report.ok
    assert "trusted registry" in (report.error or "")


def test_keys_json_with_a_substituted_operator_key(bundle: Path) -> None:
    keys = json.loads((bundle / "keys.json").read_text())
    reg = Registry.from_json(keys)
    fake = PartyKey(SigningKey.generate().public_key, frozenset({Role.LOG_OPERATOR}),
                    reg.operator.note_name)
    keys["log"]["operator"] = fake.to_json()
    (bundle / "keys.json").write_text(json.dumps(keys))
    report = _verify(bundle)
    assert not report.ok
    assert "checkpoint" in (report.error or "")


def test_unreadable_bundle_is_a_config_error(bundle: Path) -> None:
    (bundle / "keys.json").write_text("{")
    with pytest.raises(ConfigError):
        _verify(bundle)


# -- exporting a live log --------------------------------------------------------------------------


class _RacingStore:
    """A store through which export_bundle reads while another writer appends: `hook` runs once,
    right after the latest checkpoint has been read, as a second process may at any moment."""

    def __init__(self, inner: SQLStore, hook: Callable[[], None]) -> None:
        self._inner = inner
        self._hook: Callable[[], None] | None = hook

    def checkpoint(self, size: int | None = None) -> str | None:
        note = self._inner.checkpoint(size)
        if self._hook is not None:
            hook, self._hook = self._hook, None
            hook()
        return note

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_export_while_another_writer_appends_yields_a_valid_bundle(env: LogEnv, tmp_path: Path) -> None:
    """`detente log export` on a live log (writers in other processes append at any time) must
    write a bundle that verifies: the entries and history it writes must be those its checkpoint
    covers, as verify_store already ensures for the same race."""
    log = env.log()
    for raw in env.records(4):
        log.append(raw)
    other = env.log()
    late = env.records(3)

    def append_elsewhere() -> None:
        for raw in late:
            other.append(raw)

    store = _RacingStore(env.store(), append_elsewhere)
    out = tmp_path / "live"
    n = export_bundle(store, env.ws.registry(), out)  # type: ignore[arg-type]
    assert log.size() == 7  # the race did happen
    cp = SignedCheckpoint.parse((out / "checkpoint").read_text()).checkpoint
    report = _verify(out, quorum=0)
    assert report.ok, report.error
    assert n == cp.size == report.entries


# -- parallel verification ---------------------------------------------------------------------


def test_parallel_verification_agrees(bundle: Path) -> None:
    assert _verify(bundle, workers=2).ok
    lines = _lines(bundle)
    lines[3], lines[4] = lines[4], lines[3]
    _write_lines(bundle, lines)
    report = _verify(bundle, workers=2)
    assert report.index == 3, report.error


@pytest.mark.slow
def test_parallel_verification_of_a_long_damaged_bundle_reports_instead_of_hanging(
    env: LogEnv, tmp_path: Path
) -> None:
    """A bundle much longer than the verifier's read-ahead (workers × 4 chunks of 4096 lines)
    whose damage is found early: the verifier must stop and report, not wait forever for the
    reader it throttled. Runs in a child process with a deadline, so a deadlock fails the test
    (with every thread's stack on stderr) instead of hanging the suite."""
    valid = 4000
    log = env.log()
    log.append_batch(env.records(valid))
    out = tmp_path / "long"
    export_bundle(env.store(), env.ws.registry(), out)
    with open(out / "entries.jsonl", "ab") as fh:
        fh.write(b"not an envelope\n" * (4096 * 12))  # damage from leaf `valid` on
    proc = subprocess.run(
        [sys.executable, str(CHILD), "verify-bundle", str(out), "3", "2", "20"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONFAULTHANDLER": "1"},
    )
    assert proc.returncode == 0, f"verification did not finish:\n{proc.stderr[-4000:]}"
    reports = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(reports) == 3
    for r in reports:
        assert r["ok"] is False
        assert r["index"] == valid
