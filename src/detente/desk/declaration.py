"""The declaration file a party writes (YAML), read into the body of a declaration record.

    party: US
    as_of: 2022-03-01
    holdings: [{site, category, count, attributes?, illustrative?}, ...]
    aggregates: {...}            # the published totals, logged in the clear
    source: "..."                # where the figures come from
    agreements: [new-start]      # optional: the agreements it is made under (each judges it alone)

The record lists the party's own sites that its holdings use, located from the site list given
(the adopted agreements' sites, or a scenario's).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from detente.errors import ConfigError

__all__ = ["read_declaration"]


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read declaration file {path}: {exc}") from None


def read_declaration(path: Path, site_list: Sequence[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """A declaration file (party, as_of, holdings, aggregates, source) as (party, record body);
    the body lists the party's sites its holdings use, located from `site_list`."""
    d = _yaml(path)
    if not isinstance(d, dict) or not isinstance(d.get("party"), str) or "as_of" not in d:
        raise ConfigError(f"{path}: a declaration file needs 'party', 'as_of' and 'holdings'")
    party = str(d["party"])
    holdings = [
        {k: v for k, v in h.items() if k in ("site", "category", "count", "attributes", "illustrative")}
        for h in d.get("holdings") or []
    ]
    used = {h.get("site") for h in holdings}
    own = [
        {
            "id": s["id"],
            "name": s["name"],
            "host": s["host"],
            "kind": s["kind"],
            "location": [float(x) for x in s["location"]],
        }
        for s in site_list
        if s.get("owner") == party and s["id"] in used
    ]
    body = {
        "as_of": str(d["as_of"]),
        "holdings": holdings,
        "sites": own,
        "aggregates": dict(d.get("aggregates") or {}),
        "source": d.get("source", ""),
    }
    under = d.get("agreements")
    if under is not None:
        if not isinstance(under, list) or not all(isinstance(x, str) for x in under):
            raise ConfigError(f"{path}: 'agreements' lists the ids of the agreements it is made under")
        body["agreements"] = under
    return party, body
