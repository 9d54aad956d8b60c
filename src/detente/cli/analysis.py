"""`detente analyze`: how strong is a regime? Thin: parse options, call the analysis, print.

Registered by detente.cli.main as `app.add_typer(analysis_cli.app, name="analyze")`. Every command takes
`--json`; bad input (more violating sites than sites, a probability outside [0, 1]) is refused with
the library's ConfigError, printed, and exit status 2, as `detente check` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table

from detente.analysis import games
from detente.analysis.compare import GROUND_LAUNCHED_KINDS, Settings
from detente.analysis.detection import detection_probability
from detente.analysis.sampling import sample_size
from detente.analysis.sites import load_sites
from detente.cli import options
from detente.cli.options import JsonOpt, out
from detente.cli.options import emit as _emit
from detente.errors import ConfigError, DetenteError

app = typer.Typer(name="analyze", no_args_is_help=True, add_completion=False,
                  help="How strong is a regime: detection probability, inspection games, regime comparison.")


SitesN = Annotated[int, typer.Option("--sites", help="Number of sites N the draw is made from.")]
ViolatingOpt = Annotated[int, typer.Option("--violating", help="Sites in violation, k.")]
DetectOpt = Annotated[float, typer.Option(
    "--detect-prob", help="P(an inspection of a violating site finds the violation).")]
PeriodsOpt = Annotated[int, typer.Option("--periods", help="Inspection periods, each drawn afresh.")]


def fail(exc: DetenteError, as_json: bool) -> NoReturn:
    """Bad input exits 2, with the message saying what to change (on stdout as JSON with --json)."""
    options.fail(exc, as_json, code=2)


@app.command("detect")
def detect_cmd(
    sites: SitesN,
    violating: ViolatingOpt,
    inspections: Annotated[int, typer.Option("--inspections", help="Sites inspected per period, n.")],
    detect_prob: DetectOpt = 1.0,
    periods: PeriodsOpt = 1,
    as_json: JsonOpt = False,
) -> None:
    """Exact P(at least one violation found): n of N sites drawn without replacement, k violating."""
    try:
        prob = detection_probability(sites, violating, inspections, detect_prob, periods)
    except DetenteError as exc:
        fail(exc, as_json)
    if as_json:
        _emit({"probability": prob, "miss_probability": 1.0 - prob, "sites": sites, "violating": violating,
               "inspections": inspections, "detect_prob": detect_prob, "periods": periods})
    else:
        out.print(f"P(detect) = {prob:.6g}: {inspections} of {sites} sites inspected per period, "
                  f"{violating} violating, detection per inspection {detect_prob:g}, "
                  f"{periods} period(s)", highlight=False)


@app.command("sample-size")
def sample_size_cmd(
    sites: SitesN,
    violating: ViolatingOpt,
    target: Annotated[float, typer.Option("--target", help="Detection probability to reach, 1 − β.")],
    detect_prob: DetectOpt = 1.0,
    periods: PeriodsOpt = 1,
    as_json: JsonOpt = False,
) -> None:
    """Fewest inspections per period reaching the target, exact, beside n ≈ N(1 − β^(1/k))."""
    try:
        plan = sample_size(sites, violating, target, detect_prob, periods)
    except DetenteError as exc:
        fail(exc, as_json)
    if as_json:
        _emit(plan.to_json())
    else:
        out.print(f"{plan.inspections} inspections per period reach P(detect) = {plan.achieved:.6g} ≥ "
                  f"{target:g} ({violating} of {sites} sites violating); attribute-sampling "
                  f"approximation: {plan.approximation:.2f}", highlight=False)


@app.command("game")
def game_cmd(
    gain: Annotated[float, typer.Option("--gain", help="d: violator's gain from an undetected violation.")],
    penalty: Annotated[float, typer.Option("--penalty", help="b: violator's loss when caught.")],
    detect_prob: Annotated[float, typer.Option(
        "--detect-prob", help="P(an inspection detects a violation), e.g. from `analyze detect`.")] = 1.0,
    loss_undetected: Annotated[float, typer.Option(
        "--loss-undetected", help="c: inspector's loss from an undetected violation.")] = 1.0,
    loss_detected: Annotated[float, typer.Option(
        "--loss-detected", help="a: inspector's loss from a detected violation (below c).")] = 0.0,
    inspection_cost: Annotated[float, typer.Option(
        "--inspection-cost", help="C: inspector's cost of inspecting.")] = 0.0,
    false_alarm_prob: Annotated[float, typer.Option(
        "--false-alarm-prob", help="α: P(an inspection of a compliant party raises an alarm).")] = 0.0,
    false_alarm_inspector: Annotated[float, typer.Option(
        "--false-alarm-cost-inspector", help="e: inspector's cost of a false alarm.")] = 0.0,
    false_alarm_inspectee: Annotated[float, typer.Option(
        "--false-alarm-cost-inspectee", help="h: inspectee's cost of a false alarm.")] = 0.0,
    periods: Annotated[int | None, typer.Option(
        "--periods", help="Reference period: number of periods n (with --inspections).")] = None,
    inspections: Annotated[int | None, typer.Option(
        "--inspections", help="Reference period: inspections m over the n periods.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Inspection game (Avenhaus & Canty): equilibria, violation probability, deterrence, periods."""
    try:
        pay = games.Payoffs(gain, penalty, loss_undetected, loss_detected, inspection_cost,
                            false_alarm_inspector, false_alarm_inspectee)
        threshold = games.deterrence_threshold(pay, false_alarm_prob)
        sim = games.simultaneous(pay, detect_prob, false_alarm_prob)
        lead = games.leadership(pay, detect_prob, false_alarm_prob)
        period: dict[str, Any] | None = None
        if (periods is None) != (inspections is None):
            raise ConfigError("give --periods and --inspections together for a reference period")
        if periods is not None and inspections is not None:
            period = {"sequential": games.sequential(pay, periods, inspections, detect_prob).to_json(),
                      "scheduled": games.scheduled(pay, periods, inspections, detect_prob).to_json()}
    except DetenteError as exc:
        fail(exc, as_json)
    data = {"deterrence_threshold": threshold, "deterred_if_always_inspected": detect_prob >= threshold,
            "simultaneous": sim.to_json(), "leadership": lead.to_json(), "reference_period": period,
            "payoffs": {"gain": gain, "penalty": penalty, "loss_undetected": loss_undetected,
                        "loss_detected": loss_detected, "inspection_cost": inspection_cost,
                        "false_alarm_prob": false_alarm_prob,
                        "false_alarm_cost_inspector": false_alarm_inspector,
                        "false_alarm_cost_inspectee": false_alarm_inspectee, "detect_prob": detect_prob}}
    if as_json:
        _emit(data)
        return
    verdict = "deters" if detect_prob >= threshold else "does not deter"
    out.print(f"Deterrence: violation stops paying above detection probability {threshold:.4g}; "
              f"inspecting always at {detect_prob:g} {verdict}.", highlight=False)
    t = Table("game", "P(inspect)", "P(violate)", "inspector", "violator", "equilibrium")
    t.add_row("simultaneous", *_eq_cells(sim))
    t.add_row("inspector leadership", *_eq_cells(lead))
    if period is not None:
        for key in ("sequential", "scheduled"):
            sol = period[key]
            first = sol["first_stage"]
            name = f"{key}: {periods} periods, {inspections} inspections"
            t.add_row(name, f"{first['inspect']:.4g}", f"{sol['violation_prob']:.4g} (period)",
                      f"{first['inspector']:.4g}", f"{first['inspectee']:.4g}", first["kind"])
    out.print(t)


def _eq_cells(e: games.Equilibrium) -> list[str]:
    return [f"{e.inspect:.4g}", f"{e.violate:.4g}", f"{e.inspector:.4g}", f"{e.inspectee:.4g}", e.kind]


@app.command("compare")
def compare_cmd(
    out_dir: Annotated[Path, typer.Option(
        "--out", help="Directory for the table, plot (PNG, SVG) and JSON.")],
    scenario: Annotated[str | None, typer.Option(
        "--scenario", help="Shipped scenario whose site list to use (default 2022).")] = None,
    sites_path: Annotated[Path | None, typer.Option("--sites", help="A sites YAML file instead.")] = None,
    party: Annotated[str, typer.Option("--party", help="The inspected party (site owner).")] = "RU",
    kind: Annotated[list[str] | None, typer.Option(
        "--kind", help="Site kinds to draw from (repeatable; default: ground-launched missile kinds).")
    ] = None,
    violating: Annotated[int, typer.Option("--violating", help="Sites in violation.")] = 1,
    detect_prob: DetectOpt = 1.0,
    periods: PeriodsOpt = 1,
    trials: Annotated[int, typer.Option("--trials", help="Monte Carlo trials per point (0: none).")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Monte Carlo seed.")] = 2022,
    as_json: JsonOpt = False,
) -> None:
    """Detection probability against quota: unilateral choice, joint random draws, challenge quotas."""
    from detente.analysis.export import write_comparison  # matplotlib loads only for this command
    from detente.scenarios import OFFERED_QUOTAS, sites_file

    try:
        if scenario is not None and sites_path is not None:
            raise ConfigError("give --scenario or --sites, not both")
        name = None if sites_path is not None else (scenario or "2022")
        site_list = load_sites(sites_path if sites_path is not None else sites_file(name or "2022"))
        offered, label = OFFERED_QUOTAS.get(name or "", (None, ""))
        settings = Settings(scenario=name, party=party, kinds=tuple(kind or GROUND_LAUNCHED_KINDS),
                            violating=violating, detect_prob=detect_prob, periods=periods,
                            trials=trials, seed=seed, offered_quota=offered, offered_label=label)
        result = write_comparison(site_list, out_dir, settings)
    except DetenteError as exc:
        fail(exc, as_json)
    if as_json:
        _emit(result.to_json())
        return
    t = Table("quota", *(c.label for c in result.curves))
    for i, q in enumerate(result.quotas):
        t.add_row(str(q), *(f"{c.exact[i]:.3f}" for c in result.curves))
    out.print(t)
    for what, path in result.files:
        out.print(f"wrote {what}: {path}", highlight=False)
