"""The load benchmark's gates: ratios measured in the same run must stay above their floors.

Absolute requests per second move 10-20% between runs on a shared machine, so a gate on
them would be flaky or toothless. A ratio of two cells measured minutes apart, under the
same server, against the same database, holds still: the API against its framework's
minimal handler and against the raw callable, the 10,000-task user's stats against an
ordinary user's, and, with the database 10 ms away, the share of the Little's-law bound.

The floors live in `pyproject.toml` (`[tool.todo-api.bench]`). A ratio below its floor is
measured again, both of its cells, until a majority of the measurements is on one side of
the floor (at most `measurements` in all): the median decides, so one noisy neighbour does
not fail the run and a real regression does.
"""

from __future__ import annotations

import statistics
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from benchmarks.load.generators import Measurement
from benchmarks.load.servers import Target
from todo_api.serve.frontends import FRONTENDS

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

RATIO_TITLES = {
    "over_minimal": "todo-api / minimal {framework} handler",
    "over_raw": "todo-api / raw {interface} callable",
    "heavy_user": "the heavy user's stats / an ordinary user's",
    "littles_law": "database {rtt:g} ms away / min(Little's-law bound, 0 ms through the proxy)",
}


@attrs.frozen
class CellKey:
    """One cell of a run: what ran, which endpoint, and the database's round trip on the
    latency axis (None: the servers part, database on the same machine)."""

    target: Target
    endpoint: str
    rtt_ms: float | None = None


@attrs.frozen
class GateConfig:
    measurements: int
    noise: float
    littles_law_rtt_ms: float
    floors: dict[str, dict[str, float]]
    spread_max: float = 1.5
    """A project cell whose fastest round is more than this times its slowest fails..."""
    spread_over_raw: float = 1.25
    """...when its spread is also more than this times the raw callable's in the same rounds."""
    @classmethod
    def load(cls, path: Path = PYPROJECT) -> GateConfig:
        with path.open("rb") as file:
            bench = tomllib.load(file)["tool"]["todo-api"]["bench"]
        floors = bench["floors"]
        unknown = set(floors) - set(RATIO_TITLES)
        if unknown:
            raise ValueError(f"{path}: unknown gates {sorted(unknown)}; known: {sorted(RATIO_TITLES)}")
        floors = {kind: {endpoint: float(floor) for endpoint, floor in by_endpoint.items()}
                  for kind, by_endpoint in floors.items()}
        spread = bench.get("spread", {})
        return cls(measurements=int(bench["measurements"]), noise=float(bench["noise"]),
                   littles_law_rtt_ms=float(bench["littles_law_rtt_ms"]), floors=floors,
                   spread_max=float(spread.get("max", 1.5)),
                   spread_over_raw=float(spread.get("over_raw", 1.25)))


@attrs.frozen
class Gate:
    kind: str
    endpoint: str
    floor: float
    numerator: CellKey
    denominator: CellKey | None  # littles_law: the same stack at 0 ms through the same proxy
    bound: float | None = None  # littles_law: connections / round trip

    @property
    def title(self) -> str:
        target = self.numerator.target
        return RATIO_TITLES[self.kind].format(
            framework=target.framework.capitalize(), interface=FRONTENDS[target.framework].interface.upper(),
            rtt=self.numerator.rtt_ms or 0)

    @property
    def where(self) -> str:
        return f"{self.numerator.target.framework} · {self.numerator.target.server} · {self.endpoint}"

    def cells(self) -> list[CellKey]:
        return [self.numerator] + ([self.denominator] if self.denominator else [])

    def ratio(self, numerator: Measurement, denominator: Measurement | None) -> float:
        """numerator / denominator; with a bound, numerator / the lower of the two (this
        2-core machine is often CPU-bound below the Little's-law bound)."""
        below = denominator.rps if denominator is not None else None
        if self.bound is not None:
            below = self.bound if below is None else min(self.bound, below)
        return numerator.rps / below if below else 0.0


def gates_for(config: GateConfig, frameworks: list[str], connections: int) -> list[Gate]:
    """Every gate of each frontend under its default server."""
    rtt = config.littles_law_rtt_ms
    gates = []
    for framework in frameworks:
        server = FRONTENDS[framework].default_server
        api, minimal, raw = (Target(framework, server, kind) for kind in ("api", "minimal", "raw"))
        for kind, by_endpoint in config.floors.items():
            for endpoint, floor in by_endpoint.items():
                if kind == "littles_law":
                    bound = connections / (rtt / 1000)
                    gates.append(Gate(kind, endpoint, floor, CellKey(api, endpoint, rtt),
                                      CellKey(api, endpoint, 0.0), bound))
                    continue
                numerator, denominator = {
                    "over_minimal": (CellKey(api, endpoint), CellKey(minimal, endpoint)),
                    "over_raw": (CellKey(api, endpoint), CellKey(raw, endpoint)),
                    "heavy_user": (CellKey(api, "stats_10k"), CellKey(api, endpoint)),
                }[kind]
                gates.append(Gate(kind, endpoint, floor, numerator, denominator))
    return gates


@attrs.frozen
class Verdict:
    gate: Gate
    values: tuple[float, ...]  # the ratio as first measured, then as measured again

    @property
    def measured(self) -> bool:
        return bool(self.values)

    @property
    def value(self) -> float:
        return statistics.median(self.values)

    @property
    def passed(self) -> bool:
        return not self.measured or self.value >= self.gate.floor

    @property
    def fails_the_run(self) -> bool:
        return not self.passed

    @property
    def mark(self) -> str:
        if not self.measured:
            return "not measured"
        if self.passed:
            return "✅ pass"
        return "❌ FAIL"

    def as_json(self) -> dict[str, Any]:
        return {"gate": self.gate.kind, "title": self.gate.title, "where": self.gate.where,
                "framework": self.gate.numerator.target.framework, "endpoint": self.gate.endpoint,
                "floor": self.gate.floor, "values": list(self.values),
                "ratio": self.value if self.measured else None,
                "passed": self.passed if self.measured else None}


MeasureAgain = Callable[[CellKey], Measurement]


def decided(values: list[float], floor: float, measurements: int) -> bool:
    """Whether more than half of `measurements` already fall on one side of the floor."""
    below = sum(value < floor for value in values)
    return max(below, len(values) - below) > measurements // 2


def check(gates: list[Gate], measured: dict[CellKey, Measurement], measure_again: MeasureAgain,
          measurements: int) -> list[Verdict]:
    """Each gate's ratio from the run; one below its floor is measured again (both cells)
    until a majority of its measurements falls on one side of the floor."""
    verdicts = []
    for gate in gates:
        if any(key not in measured for key in gate.cells()):
            verdicts.append(Verdict(gate, ()))  # its cells were not in this run (--parts, --kinds...)
            continue
        denominator = measured[gate.denominator] if gate.denominator else None
        values = [gate.ratio(measured[gate.numerator], denominator)]
        while values[0] < gate.floor and len(values) < measurements and not decided(values, gate.floor,
                                                                                     measurements):
            print(f"[gate] {gate.where}: {gate.title} = {values[-1]:.2f}, floor {gate.floor:.2f}: measuring "
                  f"again ({len(values) + 1} of at most {measurements})", flush=True)
            again = measure_again(gate.numerator)
            values.append(gate.ratio(again, measure_again(gate.denominator) if gate.denominator else None))
        verdicts.append(Verdict(gate, tuple(values)))
    return verdicts


def markdown(verdicts: list[Verdict]) -> str:
    lines = ["| gate | frontend · server · endpoint | ratio (median) | floor | measured | |",
             "|---|---|---:|---:|---|---|"]
    for verdict in verdicts:
        values = ", ".join(f"{v:.2f}" for v in verdict.values)
        ratio = f"**{verdict.value:.2f}**" if verdict.measured else ""
        lines.append(f"| {verdict.gate.title} | {verdict.gate.where} | {ratio} | {verdict.gate.floor:.2f} | "
                     f"{values} | {verdict.mark} |")
    return "\n".join(lines) + "\n"


@attrs.frozen
class SpreadVerdict:
    """One project cell's spread over its rounds, beside the raw callable's under the same
    server on the same endpoint: the machine's slow minutes move both; a cell that swings
    on its own (a worker that takes most connections, say) moves alone."""

    where: str
    spread: float
    raw_spread: float
    limit: float
    over_raw: float

    @property
    def passed(self) -> bool:
        return not (self.spread > self.limit and self.spread > self.over_raw * self.raw_spread)

    def as_json(self) -> dict[str, Any]:
        return {"gate": "spread", "where": self.where, "spread": self.spread, "raw_spread": self.raw_spread,
                "limit": self.limit, "over_raw": self.over_raw, "passed": self.passed}


def spreads(config: GateConfig, cells: list[Any]) -> list[SpreadVerdict]:
    """A verdict for every project cell (kind "api") measured in two rounds or more whose
    raw callable was measured in the same rounds."""
    by_key = {(cell.target, cell.endpoint): cell for cell in cells}
    verdicts = []
    for cell in cells:
        if cell.target.kind != "api" or cell.spread is None:
            continue
        raw = by_key.get((attrs.evolve(cell.target, kind="raw"), cell.endpoint))
        if raw is None or raw.spread is None:
            continue
        where = f"{cell.target.framework} · {cell.target.server} · {cell.endpoint}"
        verdicts.append(
            SpreadVerdict(where, cell.spread, raw.spread, config.spread_max, config.spread_over_raw))
    return verdicts


def spread_markdown(verdicts: list[SpreadVerdict]) -> str:
    lines = ["| frontend · server · endpoint | spread (fastest / slowest round) | raw callable's | "
             "fails when over | |", "|---|---:|---:|---|---|"]
    for verdict in verdicts:
        bound = f"{verdict.limit:.2f} and {verdict.over_raw:.2f} x {verdict.raw_spread:.2f}"
        lines.append(f"| {verdict.where} | **{verdict.spread:.2f}** | {verdict.raw_spread:.2f} | {bound} | "
                     f"{'✅ pass' if verdict.passed else '❌ FAIL'} |")
    return "\n".join(lines) + "\n"
