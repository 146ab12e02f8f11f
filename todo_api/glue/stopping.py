"""Whether `todo-api serve` has begun stopping this process: the stop file it names exists.

Read by the core (as `Api(stopping=...)`) on every request, so it looks at the file at most
every CHECK_SECONDS: a stat per request would cost more than the answer's JSON. Once seen,
it stays seen; a process is never un-stopped.
"""

from __future__ import annotations

import os
import time

CHECK_SECONDS = 0.1


class StopNotice:
    def __init__(self, stop_file: str | None) -> None:
        self.stop_file = stop_file
        self.seen = False
        self._checked_at = float("-inf")

    def __call__(self) -> bool:
        if self.seen or self.stop_file is None:
            return self.seen
        now = time.monotonic()
        if now - self._checked_at >= CHECK_SECONDS:
            self._checked_at = now
            self.seen = os.path.exists(self.stop_file)
        return self.seen
