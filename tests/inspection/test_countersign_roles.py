"""The escort's countersignature must be by a key of the inspected party with the declarant role.

Security review finding: an `inspection-countersign` whose signature was made with the inspected
party's witness key was accepted as the countersignature. Witness keys only cosign checkpoints.
"""

from __future__ import annotations

import datetime as dt

import pytest

from detente.codec import b64
from detente.envelope.dsse import parse_envelope
from detente.envelope.keys import read_private_key
from detente.errors import RecordRefused
from inspection.conftest import Round

AG = "aegis-ashore-transparency"
RU_OB = "russian-visits-to-aegis-ashore"


def test_countersignature_by_the_hosts_witness_key_is_refused(rnd: Round) -> None:
    rnd.ru.request(AG, RU_OB, "RU-1", "challenge", rnd.now[0] + dt.timedelta(hours=48),
                   site="deveselu")
    rnd.later(hours=48)
    rep = rnd.ru.report("RU-1", leader="x", found=[])
    log = rnd.ws.log(writable=False)
    report_pae = parse_envelope(log.leaf(rep.index)).pae()
    witness = read_private_key(rnd.ws.secrets / "US-witness.key")
    # A genuine signature over the report, by a registered key of the inspected party (US) ...
    body = {"inspection": "RU-1", "report": rep.index, "keyid": witness.keyid,
            "sig": b64(witness.sign(report_pae))}
    before = (log.size(), log.latest().encode(), [log.leaf(i) for i in range(log.size())])
    with pytest.raises(RecordRefused) as info:
        rnd.us.append("inspection-countersign", body)
    # ... but a witness key: refused, and nothing written.
    assert info.value.code == "wrong-role", info.value.message
    assert "declarant" in info.value.message
    after = rnd.ws.log(writable=False)
    assert (after.size(), after.latest().encode(), [after.leaf(i) for i in range(after.size())]) == before
    # The same step signed with the host's declarant key is the countersignature.
    rnd.us.countersign("RU-1")
    assert rnd.ws.log(writable=False).size() == before[0] + 1
