"""The core imports no web framework and no database driver."""

import subprocess
import sys

FORBIDDEN = ["flask", "quart", "werkzeug", "psycopg", "psycopg_pool", "asyncio", "storage", "web_flask", "web_quart"]
# (not "socket": pyjwt imports urllib for its JWKS client; the core never calls it)


def test_core_imports_no_framework_driver_or_event_loop():
    code = (
        "import sys, pkgutil, importlib, core\n"
        "for m in pkgutil.iter_modules(core.__path__): importlib.import_module('core.' + m.name)\n"
        f"print([name for name in {FORBIDDEN!r} if name in sys.modules])"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]"
