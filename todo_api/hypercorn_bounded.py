"""hypercorn with WRITE_TIMEOUT: `python -m todo_api.hypercorn_bounded [hypercorn flags] app`.

hypercorn makes its listening sockets in the main process (`Config.create_sockets`) and
hands them to its workers; this entry point runs hypercorn's own command line with a
configuration that sets the kernel's write timeout on them (see todo_api.write_timeout).
"""

from __future__ import annotations

import sys

import hypercorn.__main__
from hypercorn.config import Config, Sockets

from todo_api.write_timeout import set_write_timeout, write_timeout_seconds


class WriteTimeoutConfig(Config):
    def create_sockets(self) -> Sockets:
        sockets = super().create_sockets()
        seconds = write_timeout_seconds()
        for sock in sockets.secure_sockets + sockets.insecure_sockets:
            set_write_timeout(sock, seconds)
        return sockets


def main() -> int:
    hypercorn.__main__.Config = WriteTimeoutConfig  # type: ignore[attr-defined]
    return hypercorn.__main__.main()


if __name__ == "__main__":
    sys.exit(main())
