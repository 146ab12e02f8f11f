"""Clients that keep creating and listing tasks on a real server while a test breaks something
under it (the database, an instance), recording every answer."""

from __future__ import annotations

import json
import threading
import time

from tests.helpers import make_token, new_user_id
from tests.served import call


class Load:
    """Client threads creating and listing tasks until stopped; every answer is recorded."""

    def __init__(self, port: int, threads: int = 6) -> None:
        self.port, self.stopping = port, threading.Event()
        self.user = new_user_id()
        self.auth = {"Authorization": f"Bearer {make_token(self.user, exp=int(time.time()) + 3600)}",
                     "Content-Type": "application/json"}
        self.answers: list[tuple[float, float, int, str]] = []  # started, took, status, method
        self.created: list[str] = []
        self.workers = [threading.Thread(target=self._loop, args=(n,)) for n in range(threads)]
        for worker in self.workers:
            worker.start()

    def _loop(self, number: int) -> None:
        tasks = f"/api/{self.user}/tasks"
        sent = 0
        while not self.stopping.is_set():
            sent += 1
            method = "POST" if (sent + number) % 2 else "GET"
            body = json.dumps({"title": f"t{number}-{sent}", "priority": "low", "category": "work"})
            began = time.monotonic()
            try:
                status, _, answer = call(self.port, method, tasks, self.auth, body if method == "POST" else None)
            except OSError as error:
                status, answer = 0, str(error).encode()
            self.answers.append((began, time.monotonic() - began, status, method))
            if status == 201:
                self.created.append(json.loads(answer)["id"])
            time.sleep(0.01)

    def stop(self) -> None:
        self.stopping.set()
        for worker in self.workers:
            worker.join(timeout=30)



def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
