"""Pinned virtualenvs for the conformance scripts (differential, kql-replay,
sigma-check): create the venv under target/, install its requirements.txt
when the pins changed, and re-run the calling script inside it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]


def python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def executable(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def ensure(
    venv: Path,
    requirements: Path,
    marker: str,
    script: str,
    satisfied: Callable[[], bool] | None = None,
) -> None:
    """Return when already inside the venv (`marker` set); otherwise prepare
    it and exec `script` inside it with the same arguments. `satisfied`
    may spare a reinstall when the pins are already present."""
    if os.environ.get(marker) == "1":
        return
    stamp = venv / "requirements.sha256"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if not python(venv).exists():
        print(f"== creating {venv.relative_to(ROOT)}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    fresh = stamp.exists() and stamp.read_text().strip() == digest
    if not fresh and not (satisfied is not None and satisfied()):
        print(f"== installing {requirements.relative_to(ROOT)}", file=sys.stderr)
        subprocess.run(
            [str(python(venv)), "-m", "pip", "install", "--disable-pip-version-check",
             "--quiet", "-r", str(requirements)],
            check=True,
        )
    if not fresh:
        stamp.write_text(digest + "\n")
    env = dict(os.environ, **{marker: "1"})
    sys.stdout.flush()
    target = str(Path(script).resolve())
    os.execve(str(python(venv)), [str(python(venv)), target, *sys.argv[1:]], env)
