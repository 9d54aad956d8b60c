"""`detente analyze` through typer's CliRunner on the analysis app itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from detente.analysis.detection import detection_probability
from detente.cli.analysis import app

FIXTURE = Path(__file__).with_name("sites.yaml")


def run(*args: str, code: int = 0) -> Result:
    res = CliRunner().invoke(app, list(args))
    assert res.exit_code == code, (args, res.output, res.exception)
    return res


def run_json(*args: str, code: int = 0) -> Any:
    return json.loads(run(*args, "--json", code=code).stdout)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_detect() -> None:
    data = run_json("detect", "--sites", "100", "--violating", "5", "--inspections", "10")
    assert data["probability"] == pytest.approx(0.41624763307384)
    assert data["miss_probability"] == pytest.approx(1 - data["probability"])
    data = run_json("detect", "--sites", "50", "--violating", "3", "--inspections", "5",
                    "--detect-prob", "0.9", "--periods", "4")
    assert data["probability"] == detection_probability(50, 3, 5, 0.9, 4)
    text = run("detect", "--sites", "100", "--violating", "5", "--inspections", "10").stdout
    assert "P(detect) = 0.416248" in text


def test_sample_size() -> None:
    data = run_json("sample-size", "--sites", "100000", "--violating", "5000", "--target", "0.9")
    assert data["inspections"] == 45
    assert data["approximation"] == pytest.approx(100_000 * (1 - 0.1 ** (1 / 5000)))
    assert data["achieved"] >= 0.9
    text = flat(run("sample-size", "--sites", "100", "--violating", "10", "--target", "0.95").stdout)
    assert "approximation: 25.89" in text


def test_game() -> None:
    data = run_json("game", "--gain", "1", "--penalty", "4", "--detect-prob", "0.8",
                    "--inspection-cost", "0.05", "--loss-detected", "0.2")
    assert data["deterrence_threshold"] == pytest.approx(0.2)
    assert data["deterred_if_always_inspected"] is True
    assert data["simultaneous"]["inspect"] == pytest.approx(1 / (0.8 * 5))
    assert data["simultaneous"]["violate"] == pytest.approx(0.05 / (0.8 * 0.8))
    assert data["leadership"]["violate"] == 0.0
    assert data["reference_period"] is None
    data = run_json("game", "--gain", "1", "--penalty", "1", "--periods", "2", "--inspections", "1")
    assert data["reference_period"]["sequential"]["first_stage"]["inspectee"] == pytest.approx(1 / 3)
    assert data["reference_period"]["scheduled"]["violation_prob"] == 0.0
    text = flat(run("game", "--gain", "1", "--penalty", "4", "--periods", "6", "--inspections", "2").stdout)
    assert "stops paying above detection probability 0.2" in text
    assert "sequential: 6 periods" in text


def test_compare_with_a_sites_file(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    data = run_json("compare", "--sites", str(FIXTURE), "--out", str(out), "--trials", "500",
                    "--violating", "2", "--kind", "missile-brigade", "--kind", "storage")
    assert data["sites"] == 5
    assert data["settings"]["scenario"] is None
    assert data["settings"]["kinds"] == ["missile-brigade", "storage"]
    assert {Path(p).name for p in data["files"].values()} == {
        "detection-vs-quota.png", "detection-vs-quota.svg", "detection-vs-quota.csv",
        "detection-vs-quota.md", "comparison.json"}
    text = run("compare", "--sites", str(FIXTURE), "--out", str(out), "--trials", "0").stdout
    assert "Joint random draw" in text
    assert "wrote png" in text


@pytest.mark.skipif(not (Path(__file__).parents[2] / "src/detente/scenarios/2022/sites.yaml").exists(),
                    reason="the 2022 site list is not shipped yet")
def test_compare_the_2022_scenario(tmp_path: Path) -> None:
    data = run_json("compare", "--scenario", "2022", "--out", str(tmp_path), "--trials", "200")
    assert data["settings"]["scenario"] == "2022"
    assert data["settings"]["party"] == "RU"
    assert data["regimes"][0]["exact"][1] == 0.0  # two bases of the inspector's choosing: nothing found


@pytest.mark.parametrize(("args", "needle"), [
    (["detect", "--sites", "10", "--violating", "12", "--inspections", "1"], "violating is 12"),
    (["detect", "--sites", "10", "--violating", "2", "--inspections", "1", "--detect-prob", "1.5"],
     "detect_prob is 1.5"),
    (["sample-size", "--sites", "100", "--violating", "5", "--target", "0.99", "--detect-prob", "0.5"],
     "out of reach"),
    (["game", "--gain", "1", "--penalty", "1", "--loss-detected", "2"], "must be smaller"),
    (["game", "--gain", "1", "--penalty", "1", "--periods", "3"], "--periods and --inspections together"),
    (["compare", "--out", "x", "--scenario", "2022", "--sites", str(FIXTURE)], "not both"),
    (["compare", "--out", "x", "--scenario", "1987"], "no scenario '1987'"),
    (["compare", "--out", "x", "--sites", str(FIXTURE), "--party", "FR"], "no sites owned by 'FR'"),
])
def test_bad_input_exits_2_with_the_reason(args: list[str], needle: str) -> None:
    data = run_json(*args, code=2)
    assert data["ok"] is False
    assert data["error"] == "config"
    assert needle in data["message"]
    res = run(*args, code=2)
    assert needle in flat(res.output)


def test_typer_refuses_non_numbers_with_exit_2() -> None:
    run("detect", "--sites", "ten", "--violating", "1", "--inspections", "1", code=2)
