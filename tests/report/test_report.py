"""The compliance report: every finding with its evidence and proof, the consequences of a
violation, the hypothetical marking, untrusted text rendered inert, and a real PDF."""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path

import pytest
from markupsafe import escape
from pypdf import PdfReader
from typer.testing import CliRunner

from detente.agreement.loader import load_agreement
from detente.cli import app
from detente.envelope.record import make_record
from detente.errors import ConfigError
from detente.log.merkle import verify_inclusion
from detente.report.build import build_report
from detente.report.render import find_chromium, render_html, write_report
from detente.scenarios import agreement_files
from detente.workspace import Workspace

AT = dt.date(2022, 4, 30)


def test_every_finding_is_in_the_report_with_its_evidence(demo_ws: Path) -> None:
    rep = build_report(Workspace.open(demo_ws), AT)
    text = render_html(rep)
    assert next(a.id for a in rep.agreements) == "new-start"  # the treaty in force leads
    findings = [f for a in rep.agreements for o in a.obligations for f in o.findings]
    assert len(findings) == sum(rep.counts.values()) == 30
    root = base64.b64decode(rep.checkpoint["root_hash"])
    for f in findings:
        assert str(escape(f.explanation)) in text
        for e in f.evidence:
            assert e.leaf_hash is not None
            assert e.proof is not None
            assert f"leaf {e.leaf_hash}" in text
            # the proof printed is one that verifies against the report's checkpoint
            verify_inclusion(e.index, rep.checkpoint["size"], base64.b64decode(e.leaf_hash),
                             [base64.b64decode(p) for p in e.proof], root)
    assert rep.cosigned_by == ("RU", "US")
    assert str(escape(rep.checkpoint["note"])) in text
    # a violation carries its legal consequence; a proposal is marked hypothetical
    assert "Vienna Convention on the Law of Treaties, Article 60" in text
    assert "evaluated as if in force (hypothetical)" in text
    # the analysis: table, plot embedded (no external file), and the inspections of the round
    assert "Joint random draw" in text
    assert re.search(r'src="data:image/svg\+xml;base64,', text)
    assert {c["inspection"] for c in rep.inspections} == {"RU-2022-01", "US-2022-01", "US-2022-02"}
    assert "http://" not in text.replace("http://www.w3.org", "")  # nothing fetched from elsewhere
    # the negotiation view: Russia's drafts against the U.S. response, and what each would change
    assert "Negotiation: the 2021–22 proposals" in text
    assert "posture-of-27-may-1997" in text
    assert "move 30 item(s) out of zone nato-after-1997" in text


def test_untrusted_text_is_rendered_inert(tmp_path: Path) -> None:
    """A record body is the author's text: a script in it must come out as text, never as markup."""
    ws = Workspace.create(tmp_path / "ws", "detente.test/report")
    from detente.model.parties import Role

    ws.add_party("US", "<b>United</b> States", roles=frozenset({Role.DECLARANT, Role.INSPECTOR}),
                 witness_name="witness.us.test")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    body = {"as_of": "2022-03-01", "holdings": [{"site": evil, "category": "ICBM", "count": 700}],
            "sites": [], "aggregates": {}}
    env = make_record("declaration", "US", 1, body, ws.party_key("US"), log=ws.registry().origin,
                      signed_at=now)
    ws.log().append(env.canonical())
    out = tmp_path / "r.html"
    write_report(ws.path, AT, out, agreements=[load_agreement(f) for f in agreement_files("2022")])
    text = out.read_text()
    assert "<script>" not in text
    assert "onerror=alert" not in text.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;" in text
    assert "default-src 'none'" in text  # and the page would not run a script anyway


def test_refuses_an_unknown_format_and_an_empty_log(tmp_path: Path, demo_ws: Path) -> None:
    with pytest.raises(ConfigError, match=r"FILE\.html or FILE\.pdf"):
        write_report(demo_ws, AT, tmp_path / "r.docx")
    Workspace.create(tmp_path / "empty", "detente.test/empty")
    with pytest.raises(ConfigError, match="empty"):
        write_report(tmp_path / "empty", AT, tmp_path / "r.html")


def test_cli_writes_html_and_pdf(demo_ws: Path, tmp_path: Path) -> None:
    if find_chromium() is None:
        pytest.fail("Debian's chromium is not installed: `./dev test` installs it (apt-get install chromium)")
    res = CliRunner().invoke(app, ["report", "--workspace", str(demo_ws), "--at", "2022-04-30",
                                   "--out", str(tmp_path / "r.pdf"), "--json"])
    assert res.exit_code == 0, res.output
    pdf = (tmp_path / "r.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(tmp_path / "r.pdf")
    assert len(reader.pages) > 5
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "Adherence to and Compliance" in text
    assert "901 against 800" in text
    treaty = Path(__file__).parents[2] / "src/detente/scenarios/2022/agreements/new-start.yaml"
    res = CliRunner().invoke(app, ["report", "--workspace", str(demo_ws), "--at", "2022-04-30",
                                   "--out", str(tmp_path / "r.html"), "--agreement", str(treaty)])
    assert res.exit_code == 0, res.output
    assert "Aegis" not in (tmp_path / "r.html").read_text().split("<h2>Summary</h2>")[1].split("Appendix")[0]
