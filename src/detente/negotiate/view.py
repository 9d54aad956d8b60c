"""The negotiation as the report and the dashboard show it: the workspace's proposals compared
with one another, and what each would change on the postures its log declares.

Only what the workspace tracks (`detente negotiate propose`) is shown: a workspace with no
proposals has no negotiation view, and one about other states shows only theirs.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from detente.agreement.model import Agreement
from detente.negotiate.diff import diff
from detente.negotiate.impact import impact
from detente.workspace import Workspace

__all__ = ["counterpart_pairs", "negotiation_view"]


def counterpart_pairs(proposals: Sequence[Agreement]) -> list[tuple[Agreement, Agreement]]:
    """The pairs worth comparing: texts from different proposers (a draft and its answer), the
    earlier first; where a text names no proposer, every pair it makes."""
    def when(a: Agreement) -> dt.date:
        return a.proposed_on or a.signed or dt.date.min

    out = []
    for a, b in itertools.combinations(sorted(proposals, key=lambda p: (when(p), p.id)), 2):
        if a.proposed_by is None or b.proposed_by is None or a.proposed_by != b.proposed_by:
            out.append((a, b))
    return out


def negotiation_view(ws: Workspace, at: dt.date, *, public: bool = False) -> dict[str, Any] | None:
    """Each draft against its counterpart, and each text's impact on the log at `at`; None when
    the workspace tracks no proposals (or its log is empty: there is no posture to weigh).
    `public`: impacts without the sites and items behind them (`Impact.public`)."""
    proposals = ws.proposals()
    if not proposals or not ws.log(writable=False).size():
        return None
    adopted = ws.agreements()  # read and digest-checked once, not once per proposal
    impacts = [impact(p, ws, at, enforced=adopted) for p in proposals]
    return {"diffs": [diff(a, b).to_json() for a, b in counterpart_pairs(proposals)],
            "impacts": [(i.public() if public else i).to_json() for i in impacts]}
