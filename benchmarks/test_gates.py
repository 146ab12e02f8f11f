"""The gates' rules: which ratios, read from pyproject.toml, measured again while in doubt.

`test_gate_bites.py` shows a real run failing them; here a scripted `measure_again` says
which measurements the rules ask for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.load.__main__ import settled
from benchmarks.load.gates import CellKey, Gate, GateConfig, Verdict, check, gates_for, markdown, spreads
from benchmarks.load.generators import Measurement
from benchmarks.load.report import Cell
from benchmarks.load.servers import Target

FLASK_API, FLASK_MINIMAL = Target("flask", "granian", "api"), Target("flask", "granian", "minimal")
API_LIST, MINIMAL_LIST = CellKey(FLASK_API, "list"), CellKey(FLASK_MINIMAL, "list")


def rps(value: float) -> Measurement:
    return Measurement(requests=int(value * 2), seconds=2.0, errors=0, non200=0, p50_ms=1, p90_ms=2, p99_ms=3)


class Scripted:
    """measure_again answering from a script per cell, and recording what was asked."""

    def __init__(self, script: dict[CellKey, list[float]]) -> None:
        self.script = {key: list(values) for key, values in script.items()}
        self.asked: list[CellKey] = []

    def __call__(self, key: CellKey) -> Measurement:
        self.asked.append(key)
        return rps(self.script[key].pop(0))


def over_minimal(floor: float = 1.2) -> Gate:
    return Gate("over_minimal", "list", floor, API_LIST, MINIMAL_LIST)


def test_the_committed_floors_name_every_gate_of_both_frontends_under_their_default_servers() -> None:
    config = GateConfig.load()
    gates = gates_for(config, ["flask", "quart"], connections=32)
    assert {(g.numerator.target.framework, g.numerator.target.server) for g in gates} == {
        ("flask", "granian"), ("quart", "uvicorn")}
    kinds = {(g.kind, g.endpoint) for g in gates}
    assert {("over_minimal", "list"), ("over_minimal", "stats"), ("over_raw", "list"), ("over_raw", "stats"),
            ("heavy_user", "stats"), ("littles_law", "list"), ("littles_law", "stats")} <= kinds
    assert config.measurements >= 3 and 0 < config.noise < 1
    heavy = next(g for g in gates if g.kind == "heavy_user")
    assert heavy.numerator.endpoint == "stats_10k"
    assert heavy.denominator == CellKey(heavy.numerator.target, "stats")
    littles = next(g for g in gates if g.kind == "littles_law")
    assert littles.numerator.rtt_ms == config.littles_law_rtt_ms and littles.bound == 32 / 0.010


def test_an_unknown_gate_in_the_configuration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.todo-api.bench]\nmeasurements = 3\nnoise = 0.2\nlittles_law_rtt_ms = 10\n'
                    '[tool.todo-api.bench.floors]\nover_minmal = { list = 1.0 }\n')
    with pytest.raises(ValueError, match="over_minmal"):
        GateConfig.load(path)


def test_a_ratio_above_its_floor_is_measured_once() -> None:
    again = Scripted({})
    [verdict] = check([over_minimal()], {API_LIST: rps(3000), MINIMAL_LIST: rps(1500)}, again, 3)
    assert verdict.values == (2.0,) and verdict.passed and again.asked == []


def test_a_ratio_below_its_floor_is_measured_again_with_both_cells_and_the_median_decides() -> None:
    again = Scripted({API_LIST: [3000, 2800], MINIMAL_LIST: [1500, 1400]})  # 2.0, then 2.0
    [verdict] = check([over_minimal()], {API_LIST: rps(1000), MINIMAL_LIST: rps(1500)}, again, 3)
    assert verdict.values == pytest.approx((0.667, 2.0, 2.0), abs=0.001)
    assert verdict.passed and verdict.value == 2.0
    assert again.asked == [API_LIST, MINIMAL_LIST, API_LIST, MINIMAL_LIST]


def test_a_regression_fails_as_soon_as_most_measurements_fall_short() -> None:
    again = Scripted({API_LIST: [900, 9999], MINIMAL_LIST: [1500, 1]})
    [verdict] = check([over_minimal()], {API_LIST: rps(1000), MINIMAL_LIST: rps(1500)}, again, 3)
    assert len(verdict.values) == 2 and not verdict.passed  # the third could not change the median
    assert "❌ FAIL" in markdown([verdict])


def test_one_good_measurement_among_three_does_not_pass_a_gate() -> None:
    again = Scripted({API_LIST: [3000, 1000], MINIMAL_LIST: [1500, 1500]})
    [verdict] = check([over_minimal()], {API_LIST: rps(1000), MINIMAL_LIST: rps(1500)}, again, 3)
    assert verdict.values == pytest.approx((0.667, 2.0, 0.667), abs=0.001) and not verdict.passed


def test_the_littles_law_gate_measures_only_its_cell_again() -> None:
    cell = CellKey(FLASK_API, "stats", 10.0)
    gate = Gate("littles_law", "stats", 0.5, cell, None, bound=3200)
    again = Scripted({cell: [2000, 2100]})
    [verdict] = check([gate], {cell: rps(1000)}, again, 3)
    assert verdict.values == pytest.approx((0.3125, 0.625, 0.65625)) and verdict.passed
    assert again.asked == [cell, cell]


def test_a_gate_whose_cells_were_not_in_the_run_is_reported_and_does_not_fail_it() -> None:
    [verdict] = check([over_minimal()], {API_LIST: rps(1000)}, Scripted({}), 3)
    assert not verdict.measured and verdict.passed
    assert verdict.as_json()["ratio"] is None and "not measured" in markdown([verdict])


def test_a_failing_verdict_says_what_it_measured_in_its_json() -> None:
    verdict = Verdict(over_minimal(), (0.5, 0.6))
    assert verdict.as_json() == {
        "gate": "over_minimal", "title": "todo-api / minimal Flask handler",
        "where": "flask · granian · list", "framework": "flask", "endpoint": "list", "floor": 1.2,
        "values": [0.5, 0.6], "ratio": 0.55,
        "passed": False}
    assert verdict.fails_the_run and "❌ FAIL" in markdown([verdict])


def test_a_cell_measured_again_shows_the_median_of_its_measurements() -> None:
    first = Cell(FLASK_API, "list", rps(1000))
    assert settled(first, []) is first
    assert settled(first, [rps(3000), rps(2800)]).result == rps(2800)
    assert settled(first, [rps(3000), rps(2800), rps(3100)]).result == rps(2800)  # the lower middle of four


def rounds_of(*rates: float) -> tuple[Measurement, ...]:
    return tuple(Measurement(requests=int(rate), seconds=1.0, errors=0, non200=0, p50_ms=1, p90_ms=1,
                             p99_ms=1) for rate in rates)


def test_a_project_cell_that_swings_alone_fails_the_spread_gate() -> None:
    """Issue #21's Flask cells: 488-1,569 req/s in five rounds while the raw callable held
    within 10%; the same swing on both is the machine's."""
    config = GateConfig.load()
    api, raw = Target("flask", "granian", "api"), Target("flask", "granian", "raw")
    steady_raw = Cell(raw, "stats", rounds_of(1800)[0], rounds_of(1743, 1910, 1800, 1850, 1820))
    swinging = Cell(api, "stats", rounds_of(672)[0], rounds_of(488, 664, 1420, 1569, 672))
    [verdict] = spreads(config, [swinging, steady_raw])
    assert not verdict.passed and round(verdict.spread, 2) == 3.22
    machine = Cell(raw, "stats", rounds_of(1000)[0], rounds_of(1000, 2800))
    assert all(v.passed for v in spreads(config, [swinging, machine]))  # 3.22 < 1.25 x 2.8
    steady = Cell(api, "stats", rounds_of(1500)[0], rounds_of(1500, 1600, 1450))
    assert all(v.passed for v in spreads(config, [steady, steady_raw]))
    assert spreads(config, [Cell(api, "stats", rounds_of(1500)[0])]) == []  # one round: no spread
