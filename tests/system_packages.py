"""Programs some tests need from the operating system (PgBouncer, a PostgreSQL built with TLS).

As root on Debian (CI, a fresh developer machine) a missing one is installed with apt;
anywhere else the test is skipped with a message that says how to get it.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

import pytest

_apt_updated = False
_failed: dict[str, str] = {}  # package -> why its install failed: not tried again in this run


def installed(candidates: list[str]) -> str | None:
    for pattern in candidates:
        found = sorted(glob.glob(pattern)) or ([shutil.which(pattern)] if "/" not in pattern else [])
        found = [path for path in found if path and os.access(path, os.X_OK)]
        if found:
            return found[-1]  # the newest version where several are installed
    return None


def require(candidates: list[str], package: str) -> str:
    """The path of the first candidate found (glob patterns allowed), installing `package` if need be."""
    global _apt_updated
    path = installed(candidates)
    if path:
        return path
    how = f"install Debian's {package} (`apt-get install {package}`) to run this test"
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip(f"{candidates[0]} is missing: {how}")
    if package in _failed:
        pytest.skip(_failed[package])
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        if not _apt_updated:
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True, timeout=45)
            _apt_updated = True
        subprocess.run(["apt-get", "install", "-y", "-qq", package], env=env, check=True,
                       capture_output=True, timeout=60)  # both within the test's own timeout
    except (subprocess.SubprocessError, OSError) as error:
        _failed[package] = f"{candidates[0]} is missing and `apt-get install {package}` failed ({error}): {how}"
        pytest.skip(_failed[package])
    path = installed(candidates)
    if not path:
        pytest.skip(f"{package} was installed but {candidates[0]} is not there: {how}")
    return path


def unprivileged_user() -> str | None:
    """The user a server that refuses root (PgBouncer, PostgreSQL) runs as when we are root."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in ("embedded_postgres", "postgres", "nobody"):  # the first can reach the embedded socket
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    pytest.skip("running as root with no unprivileged user (postgres, nobody) to run the server as")
