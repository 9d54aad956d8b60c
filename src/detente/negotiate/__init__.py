"""Negotiation: compare proposals by meaning (diff) and see what one would change (impact)."""

from detente.negotiate.diff import Diff, diff
from detente.negotiate.impact import Impact, impact
from detente.negotiate.render import demo_section

__all__ = ["Diff", "Impact", "demo_section", "diff", "impact"]
