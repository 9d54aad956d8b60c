"""The printable compliance report: `build` (plain data) → `render_html` → optionally `to_pdf`."""

from detente.report.build import Report, build_report
from detente.report.render import render_html, write_report

__all__ = ["Report", "build_report", "render_html", "write_report"]
