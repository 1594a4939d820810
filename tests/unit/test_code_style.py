"""The whole repository keeps to the code style configured in pyproject.toml: ruff's lint rules and its
formatting. Run as tests so that `make test` fails on a finding, not only a separate lint step."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_ruff_check_finds_nothing():
    result = _ruff("check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_would_change_nothing():
    result = _ruff("format", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
