"""Negotiation: compare proposals by meaning (diff) and see what one would change (impact)."""

from detente.negotiate.diff import Diff, diff
from detente.negotiate.impact import Impact, impact
from detente.negotiate.view import counterpart_pairs, negotiation_view

__all__ = ["Diff", "Impact", "counterpart_pairs", "diff", "impact", "negotiation_view"]
