"""The site-list loader: three fields read, everything it cannot trust refused with file and entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from detente.analysis.sites import Site, load_sites, sites_from_records
from detente.errors import ConfigError
from detente.scenarios import sites_file

FIXTURE = Path(__file__).with_name("sites.yaml")


def test_reads_id_owner_and_kind() -> None:
    sites = load_sites(FIXTURE)
    assert len(sites) == 9
    assert sites[0] == Site("alpha-brigade", "RU", "missile-brigade")
    assert {s.owner for s in sites} == {"RU", "US"}


@pytest.mark.parametrize(("text", "needle"), [
    ("sites:\n  - {id: a, owner: RU}\n", "site a has no kind"),
    ("sites:\n  - {id: a, owner: RU, kind: storage}\n  - {id: a, owner: RU, kind: storage}\n",
     "'a' appears twice"),
    ("sites:\n  - just-a-string\n", "entry 1 is not a mapping"),
    ("sites:\n  - {id: a, owner: '', kind: storage}\n", "has no owner"),
    ("- {id: a}\n", "mapping with a `sites:` list"),
    ("sites: [\n", "not valid YAML"),
])
def test_refusals_name_the_file_and_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    f = tmp_path / "sites.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=needle) as info:
        load_sites(f)
    assert str(f) in info.value.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read sites file"):
        load_sites(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match=r"no scenario '1987'"):
        sites_file("1987")


def test_records_as_the_scenario_module_returns_them() -> None:
    got = sites_from_records([{"id": "x", "owner": "US", "kind": "storage", "location": [0, 0]}])
    assert got == (Site("x", "US", "storage"),)


@pytest.mark.skipif(not (Path(__file__).parents[2] / "src/detente/scenarios/2022/sites.yaml").exists(),
                    reason="the 2022 site list is not shipped yet")
def test_shipped_2022_list_loads_through_package_resources() -> None:
    sites = load_sites(sites_file("2022"))
    assert sites
    assert len({s.id for s in sites}) == len(sites)
    assert all(s.owner and s.kind for s in sites)
