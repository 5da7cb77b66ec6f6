#!/usr/bin/env python3
"""Bootstrap for a fresh machine: make .venv, install the project into it, then run.

    python3 dev.py demo [args]   the whole command centre on this machine
    python3 dev.py test [args]   the test suite (pytest arguments pass through)

Needs only Python 3.11+ and pip. Reinstalls when pyproject.toml changes.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed"


def _pip(*args: str) -> None:
    if (VENV / "bin" / "pip").exists():
        cmd = [str(PYTHON), "-m", "pip", *args]
    else:  # venv made without ensurepip (e.g. Debian without python3-venv): drive it with the outer pip
        cmd = [sys.executable, "-m", "pip", "--python", str(PYTHON), *args]
    subprocess.run(cmd, check=True, cwd=ROOT)


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - a python3 older than the project may start this script
        sys.exit(f"Python 3.11+ is needed, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        try:
            venv.create(VENV, with_pip=True)
        except Exception:
            venv.create(VENV, with_pip=False, clear=True)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != digest:
        print("installing dependencies (first run takes a minute)", flush=True)
        _pip("install", "--quiet", "--disable-pip-version-check", "-e", ".[test]")
        STAMP.write_text(digest)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"demo", "test"}:
        sys.exit(__doc__)
    command, rest = sys.argv[1], sys.argv[2:]
    ensure_environment()
    os.chdir(ROOT)
    module = {"demo": "devstack.demo", "test": "pytest"}[command]
    os.execv(PYTHON, [str(PYTHON), "-m", module, *rest])


if __name__ == "__main__":
    main()
