"""granian with WRITE_TIMEOUT_SECONDS, as todo-api served Flask until #21 (measured, never deployed):
`python -m benchmarks.load.designs.granian_shared_socket [granian flags] app`.

granian has no write timeout and no way to pass it a socket, and on Linux each worker binds
its own listening socket (SO_REUSEPORT) inside Rust, where no option can be added. This
entry point runs granian's own command line with one change to its server: one listening
socket made in the main process, as granian does on other systems (the workers accept
from it), so the kernel's write timeout can be set on it (see todo_api.serve.write_timeout).
It leans on granian's internals (hence no longer in todo_api/); the flask_servers part
measures it beside the offered design.
"""

from __future__ import annotations

import socket

import granian.cli
from granian._granian import ListenerSpec
from granian.server import Server

from todo_api.serve.write_timeout import set_write_timeout, write_timeout_seconds


class WriteTimeoutServer(Server):  # type: ignore[misc, valid-type]
    def _init_shared_socket(self) -> None:
        if self.bind_uds:
            super()._init_shared_socket()
            return
        self._ssp = None
        self._shd = ListenerSpec(self.bind_addr, self.bind_port, self.backlog).build()
        self._sfd = self._shd.get_fd()
        shared = socket.socket(fileno=self._sfd)  # how granian hands a shared socket to workers
        shared.set_inheritable(True)
        set_write_timeout(shared, write_timeout_seconds())
        self._sso = shared


def main() -> None:
    granian.cli.Server = WriteTimeoutServer  # type: ignore[attr-defined]
    granian.cli.entrypoint()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
