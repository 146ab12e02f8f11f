"""The polling axis: what a client that polls its list costs with and without `If-None-Match`.

For an ordinary user (25 tasks) and the heavy one (10,000 tasks, so a list of
LIST_MAX_ITEMS), each frontend under its default server answers the full list (200) and
the poll that finds nothing new (304, from the user's revision alone), measured with the
built-in generator, which also counts the bytes of each answer (head and body).
"""

from __future__ import annotations

import argparse
import http.client
from pathlib import Path
from typing import Any

import attrs

from benchmarks.load import generators, report
from benchmarks.load.generators import Measurement
from benchmarks.load.servers import Running, Target
from todo_api.serve.frontends import FRONTENDS


@attrs.frozen
class PollCell:
    target: Target
    user: str  # "25 tasks" or "10,000 tasks"
    poll: bool
    result: Measurement

    @property
    def failed(self) -> bool:
        return bool(self.result.errors or self.result.non200 or not self.result.requests)


def current_etag(port: int, path: str, token: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        response.read()
        return response.getheader("ETag") or ""
    finally:
        connection.close()


def sweep(args: argparse.Namespace, users: dict[str, tuple[str, str]], env: dict[str, str],
          workdir: Path) -> list[PollCell]:
    """`users` maps a label to (list path, token)."""
    cells: list[PollCell] = []
    for framework in args.frameworks:
        target = Target(framework, FRONTENDS[framework].default_server, "api")
        print(f"[polling] {target.label}", flush=True)
        server = Running.start(target, args.workers, env, workdir, tag="polling")
        try:
            for label, (path, token) in users.items():
                etag = current_etag(server.port, path, token)
                for poll in (False, True):
                    extra, expected = (f"If-None-Match: {etag}\r\n", b"304") if poll else ("", b"200")
                    generators.run_builtin(server.port, [(path, token)], args.connections, args.warmup,
                                           extra, expected)
                    result = generators.run_builtin(server.port, [(path, token)], args.connections,
                                                    args.seconds, extra, expected)
                    cells.append(PollCell(target, label, poll, result))
                    what, size = ("304 poll" if poll else "full list"), result.bytes_per_answer
                    print(f"    {label:>13} {what:>9} {result.rps:9,.0f} req/s {size:10,.0f} bytes"
                          f"  failed {result.errors + result.non200}", flush=True)
        finally:
            server.stop()
    return cells


def save(cells: list[PollCell], out: Path, run: dict[str, Any]) -> str:
    lines = [
        "| app · server | user | full list: req/s | bytes | 304 poll: req/s | bytes |",
        "|---|---|---:|---:|---:|---:|",
    ]
    keyed = {(c.target.label, c.user, c.poll): c.result for c in cells}
    for label, user in dict.fromkeys((c.target.label, c.user) for c in cells):
        full, poll = keyed[(label, user, False)], keyed[(label, user, True)]
        lines.append(f"| {label} | {user} | {full.rps:,.0f} | {full.bytes_per_answer:,.0f} | "
                     f"{poll.rps:,.0f} ({poll.rps / full.rps:.1f}x) | {poll.bytes_per_answer:,.0f} |")
    return report.save_part(out, "polling", "\n".join(lines), [
        {"target": c.target.name, "user": c.user, "poll": c.poll, **attrs.asdict(c.result),
         "rps": c.result.rps}
        for c in cells
    ], run)
