"""What a compliance report says, as plain data: no I/O beyond reading the workspace, no HTML.

In the spirit of the annual compliance reports governments publish (the U.S. Department of State's
"Adherence to and Compliance With Arms Control, Nonproliferation, and Disarmament Agreements and
Commitments"): per agreement, its legal status; per obligation and party, the finding, each
interpretation side by side where they diverge, the evidence with its checkpoint and inclusion
proof, the explanation and, for a violation, its legal consequence; then the inspections and the
analysis of how strong the verification regime is.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from detente.agreement.model import Agreement
from detente.compliance.check import check, read_disclosed
from detente.compliance.findings import STATUSES, Finding
from detente.errors import ConfigError, NoteError
from detente.log.note import SignedCheckpoint, verify_cosignature
from detente.log.trust import witness_verifiers
from detente.model.parties import Registry
from detente.negotiate.view import negotiation_view
from detente.workspace import Workspace


@dataclass(frozen=True)
class ObligationSection:
    id: str
    kind: str
    clause: str
    text: str
    findings: tuple[Finding, ...]

    @property
    def divergent(self) -> bool:
        return any(f.divergence for f in self.findings)


@dataclass(frozen=True)
class AgreementSection:
    id: str
    title: str
    legal_status: str
    stage: str
    hypothetical: bool
    sources: tuple[str, ...]
    obligations: tuple[ObligationSection, ...]
    counts: dict[str, int]


@dataclass(frozen=True)
class Report:
    origin: str
    at: dt.date
    known_at: dt.datetime | None
    generated: dt.datetime
    checkpoint: dict[str, Any]
    cosigned_by: tuple[str, ...]
    operator_vkey: str
    agreements: tuple[AgreementSection, ...]
    counts: dict[str, int]
    divergences: tuple[Finding, ...]
    violations: tuple[Finding, ...]
    inspections: tuple[dict[str, Any], ...]
    analysis: dict[str, Any] | None
    plots: dict[str, Path] = field(default_factory=dict)
    negotiation: dict[str, Any] | None = None
    #: The public edition: no item-level detail (`Finding.public`).
    public: bool = False


def build_report(
    ws: Workspace,
    at: dt.date,
    *,
    agreements: Sequence[Agreement] | None = None,
    known_at: dt.datetime | None = None,
    analysis_dir: Path | None = None,
    public: bool = False,
) -> Report:
    """Evaluate `agreements` (default: the workspace's adopted agreements) at `at`, with the
    proposals the workspace tracks and the analysis it holds, and nothing else.

    `public`: the edition anyone may read (docs/service.md, "Who sees what"): findings as status,
    value, bound and evidence, without the sites, items and explanations drawn from disclosed
    records, and inspections without their sites."""
    from detente.log.trust import operator_verifier

    log = ws.log(writable=False)
    if not log.size():
        raise ConfigError(f"the log in {ws.path} is empty: there is nothing to report on")
    adopted = ws.agreements()
    if agreements is None:
        agreements = adopted
        if not agreements:
            raise ConfigError(f"{ws.path} has adopted no agreement: adopt one (`detente agreement "
                              "adopt FILE`) or name it (`detente report --agreement FILE`)")
    disclosed = read_disclosed(ws.disclosed)
    # agreements in force first, as a government's report leads with its treaty obligations
    agreements = sorted(agreements, key=lambda a: a.stage_at(at) != "in-force")
    # one evaluation of them all: one read of the log, one checkpoint behind every finding
    result = check(agreements, log, at, known_at=known_at, hypothetical=True, disclosed=disclosed,
                   enforced=adopted)
    checkpoint = result.checkpoint
    if public:
        result = replace(result, findings=tuple(f.public() for f in result.findings),
                         inspections=tuple({**c, "site": None, "pool": [], "seed": None}
                                           for c in result.inspections))
    sections = []
    for ag in agreements:
        stage = ag.stage_at(at)
        mine = [f for f in result.findings if f.agreement == ag.id]
        obs = tuple(ObligationSection(ob.id, ob.kind, ob.clause, ob.text or "",
                                      tuple(f for f in mine if f.obligation == ob.id))
                    for ob in ag.obligations)
        sections.append(AgreementSection(ag.id, ag.title, ag.legal_status, stage,
                                         stage in ("proposed", "signed"), ag.source, obs, _count(mine)))
    all_findings = list(result.findings)
    cosigners = _cosigners(SignedCheckpoint.parse(checkpoint["note"]), log.registry)
    analysis, plots = _analysis(ws, analysis_dir)
    negotiation = negotiation_view(ws, at, public=public)
    return Report(
        origin=log.registry.origin,
        at=at,
        known_at=known_at,
        generated=dt.datetime.now(dt.UTC).replace(microsecond=0),
        checkpoint=checkpoint,
        cosigned_by=cosigners,
        operator_vkey=operator_verifier(log.registry).vkey,
        agreements=tuple(sections),
        counts=_count(all_findings),
        divergences=tuple(f for f in all_findings if f.divergence),
        violations=tuple(f for f in all_findings if f.status == "violation"),
        inspections=result.inspections,
        analysis=analysis,
        plots=plots,
        negotiation=negotiation,
        public=public,
    )


def _cosigners(scp: SignedCheckpoint, registry: Registry) -> tuple[str, ...]:
    """The parties whose witnesses' cosignatures on the checkpoint verify (not merely appear)."""
    out = []
    for pid, v in witness_verifiers(registry).items():
        if scp.note.signature_for(v) is None:
            continue
        try:
            verify_cosignature(scp.note, v)
        except NoteError:
            continue
        out.append(pid)
    return tuple(sorted(out))


def _count(findings: Sequence[Finding]) -> dict[str, int]:
    out: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for f in findings:
        out[f.status] += 1
    return out


def _analysis(ws: Workspace, analysis_dir: Path | None) -> tuple[dict[str, Any] | None, dict[str, Path]]:
    """The regime comparison the workspace holds (`detente analyze compare --out DIR/analysis`),
    if it holds one: the report shows only analysis someone asked for about these parties."""
    d = analysis_dir or ws.path / "analysis"
    if not (d / "comparison.json").exists():
        return None, {}
    data = json.loads((d / "comparison.json").read_text())
    plots = {p.suffix[1:]: p for p in sorted(d.glob("*")) if p.suffix in (".svg", ".png")}
    return data, plots
