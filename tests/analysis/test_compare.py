"""The regime comparison on a small site list, and the files write_comparison writes."""

from __future__ import annotations

import json
import math
from pathlib import Path
from xml.etree import ElementTree

import pytest

from detente.analysis import write_comparison
from detente.analysis.compare import Settings, compare_regimes
from detente.analysis.detection import detection_probability
from detente.analysis.sites import load_sites
from detente.analysis.tables import csv_text, largest_z, markdown
from detente.errors import ConfigError

FIXTURE = Path(__file__).with_name("sites.yaml")
SITES = load_sites(FIXTURE)  # RU: 3 brigades, 2 storage, 1 test site (+ an ICBM base); US: 2 sites


def curves(settings: Settings) -> dict[str, tuple[float, ...]]:
    return {c.key: c.exact for c in compare_regimes(SITES, settings).curves}


def test_draws_from_the_inspected_partys_sites_of_the_chosen_kinds() -> None:
    result = compare_regimes(SITES, Settings(trials=0))
    assert result.site_ids == ("alpha-brigade", "bravo-brigade", "charlie-brigade", "delta-store",
                               "echo-store", "foxtrot-range")
    assert result.quotas == (1, 2, 3, 4, 5, 6)
    assert [c.key for c in result.curves] == ["unilateral", "joint-uniform", "joint-weighted", "challenge"]


@pytest.mark.parametrize(("k", "p", "t"), [(1, 1.0, 1), (2, 1.0, 1), (2, 0.7, 3)])
def test_each_regime_against_its_closed_form(k: int, p: float, t: int) -> None:
    c = curves(Settings(violating=k, detect_prob=p, periods=t, trials=0))
    n_sites = 6
    for q in range(1, n_sites + 1):
        # unilateral: only quota beyond the N − k sites the host keeps clean can reach a violation
        forced = max(0, q - (n_sites - k))
        assert c["unilateral"][q - 1] == pytest.approx(1 - (1 - p) ** (forced * t))
        assert c["joint-uniform"][q - 1] == pytest.approx(detection_probability(n_sites, k, q, p, t))
    # a violator who knows the weights does no worse against the weighted draw than the uniform one
    assert all(w <= u + 1e-12 for w, u in zip(c["joint-weighted"], c["joint-uniform"], strict=True))


def test_the_2022_lesson_on_the_fixture() -> None:
    """With one violating site, the US offer's quota of two finds nothing under unilateral choice
    and 2/6 under a joint uniform draw; the challenge with a right prior (weights 3, 3, 3, 2, 2, 2)
    finds the violation at the two top-ranked brigades with 6/15."""
    c = curves(Settings(trials=0))
    assert c["unilateral"][1] == 0.0
    assert c["joint-uniform"][1] == pytest.approx(2 / 6)
    assert c["challenge"][1] == pytest.approx(6 / 15)
    assert all(v[-1] == 1.0 for v in c.values())


def test_monte_carlo_check_agrees() -> None:
    result = compare_regimes(SITES, Settings(violating=2, detect_prob=0.8, periods=2, trials=20_000))
    z = largest_z(result)
    assert z is not None
    assert z <= 4.5
    assert all(len(c.monte_carlo) == len(result.quotas) for c in result.curves)


def test_kinds_and_party_choose_the_population() -> None:
    result = compare_regimes(SITES, Settings(party="US", kinds=("missile-brigade", "aegis-ashore"), trials=0))
    assert result.site_ids == ("hotel-aegis", "india-brigade")
    with pytest.raises(ConfigError, match=r"no sites owned by 'FR'.*owners in the list: RU, US"):
        compare_regimes(SITES, Settings(party="FR"))
    with pytest.raises(ConfigError, match="violating is 7"):
        compare_regimes(SITES, Settings(violating=7))


def test_write_comparison_writes_table_plot_and_json(tmp_path: Path) -> None:
    out = tmp_path / "analysis"
    result = write_comparison(FIXTURE, out, Settings(scenario=None, trials=2_000))
    files = dict(result.files)
    assert set(files) == {"png", "svg", "csv", "md", "json"}
    assert Path(files["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = ElementTree.parse(files["svg"]).getroot()
    assert svg.tag.endswith("svg")
    assert "Joint random draw (uniform)" in Path(files["svg"]).read_text()  # text kept as text
    data = json.loads(Path(files["json"]).read_text())
    assert data == json.loads(json.dumps(result.to_json()))
    assert data["regimes"][1]["exact"][1] == pytest.approx(2 / 6)
    md = Path(files["md"]).read_text()
    assert md == markdown(result)
    assert "| 2 | 0.000 | 0.333 |" in md
    assert Path(files["csv"]).read_text() == csv_text(result)
    assert csv_text(result).splitlines()[0].startswith("quota,unilateral_exact,unilateral_mc")


def test_write_comparison_accepts_records_and_rejects_unwritable_dirs(tmp_path: Path) -> None:
    records = [{"id": s.id, "owner": s.owner, "kind": s.kind} for s in SITES]
    result = write_comparison(records, tmp_path / "r", Settings(trials=0))
    assert result.site_ids[0] == "alpha-brigade"
    assert not any(c.monte_carlo for c in result.curves)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot write the comparison"):
        write_comparison(SITES, blocker / "sub", Settings(trials=0))


def test_quota_for() -> None:
    result = compare_regimes(SITES, Settings(trials=0))
    uniform = result.curves[1]
    assert uniform.quota_for(0.5) == 3
    assert uniform.quota_for(0.9) == 6
    assert result.curves[0].quota_for(0.5) == 6
    assert math.isclose(sum(uniform.exact), sum(q / 6 for q in range(1, 7)))
