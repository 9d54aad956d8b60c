"""A partner's full declaration is as secret in the receiving workspace as in the author's.

The author's copy under private/ is 0600; the copy `detente disclose` keeps under disclosed/ holds
the same salted records (every site, every count) and must not be readable by other users either.
"""

from __future__ import annotations

import datetime as dt
import os
import stat

from detente.desk import disclose
from inspection.conftest import Round


def test_a_disclosed_declaration_is_readable_by_its_owner_only(rnd: Round) -> None:
    old = os.umask(0o022)  # the usual umask: files come out 0644 unless made otherwise
    try:
        _, private = rnd.us.declare(dt.date(2022, 4, 1), [{"site": "deveselu", "category": "SM-3",
                                                          "count": 24}])
        index, kept = disclose(rnd.ws, private)
    finally:
        os.umask(old)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600, oct(kept.stat().st_mode)
    assert kept.read_bytes() == private.read_bytes()
    assert index == rnd.size() - 1
