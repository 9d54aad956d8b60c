"""The report as one self-contained HTML file (and, through Chromium, a PDF).

Every value from the log is untrusted input: the template engine escapes everything (Jinja2
autoescape), no value is marked safe, and the file carries a Content-Security-Policy that allows no
script at all. The plots are embedded as data URIs, so the file opens offline and prints the same
anywhere.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from detente.agreement.model import Agreement
from detente.errors import ConfigError
from detente.fsutil import atomic_write
from detente.report.build import Report, build_report
from detente.workspace import Workspace

_ENV = Environment(
    loader=PackageLoader("detente.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
#: Chromium's flags for a closed network and a throwaway profile (see the machine notes).
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-pdf-header-footer")


def _data_uri(path: Path) -> str:
    mime = {".svg": "image/svg+xml", ".png": "image/png"}[path.suffix]
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def render_html(report: Report) -> str:
    plot = report.plots.get("svg") or report.plots.get("png")
    return _ENV.get_template("report.html.j2").render(
        r=report,
        plot_uri=_data_uri(plot) if plot else None,
        status_label={"compliant": "Compliant", "violation": "Violation", "unverified": "Unverified",
                      "not_applicable": "Not applicable"},
    )


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def to_pdf(html: str, out: Path, *, timeout: float = 120) -> None:
    """Print `html` to `out` with headless Chromium (Debian's package)."""
    exe = find_chromium()
    if exe is None:
        raise ConfigError("PDF output needs Chromium (Debian's package: apt-get install chromium); "
                          "write .html instead, or install it")
    with tempfile.TemporaryDirectory(prefix="detente-report-") as tmp:
        src = Path(tmp) / "report.html"
        src.write_text(html, encoding="utf-8")
        pdf = Path(tmp) / "report.pdf"
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile", f"--print-to-pdf={pdf}",
               src.as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False,  # noqa: S603
                                  env={**os.environ, "HOME": tmp})
        except subprocess.TimeoutExpired as exc:
            raise ConfigError(f"Chromium did not finish printing within {timeout:.0f} s") from exc
        if done.returncode != 0 or not pdf.exists() or not pdf.read_bytes().startswith(b"%PDF"):
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise ConfigError("Chromium could not print the report to PDF: " + " | ".join(tail))
        atomic_write(out, pdf.read_bytes())


def write_report(
    workspace: Path,
    at: dt.date,
    out: Path,
    *,
    agreements: Sequence[Agreement] | None = None,
    known_at: dt.datetime | None = None,
    db_url: str | None = None,
    public: bool = False,
) -> tuple[Path, Report]:
    """Build, render and write the report; `.pdf` prints through Chromium, anything else is HTML."""
    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise ConfigError(f"--out {out}: write FILE.html or FILE.pdf")
    report = build_report(Workspace.open(workspace, db_url), at, agreements=agreements, known_at=known_at,
                          public=public)
    html = render_html(report)
    if out.suffix.lower() == ".pdf":
        to_pdf(html, out)
    else:
        atomic_write(out, html.encode("utf-8"))
    return out, report


def summary(report: Report) -> dict[str, Any]:
    return {"at": report.at.isoformat(), "checkpoint": report.checkpoint["size"],
            "counts": report.counts, "agreements": [a.id for a in report.agreements],
            "violations": len(report.violations), "inspections": len(report.inspections)}
