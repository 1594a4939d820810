"""The installable package: the wheel, installed into a fresh virtual environment outside the
repository, checks, deploys and serves the processes it ships with; its own files (the SQLite database,
the secret key) go to the instance folder of the working directory, never into site-packages; the
version is the one written in engine/__init__.py; test tools are not shipped."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

import engine
from tests.conftest import ROOT
from tests.smtp import free_port


def _listed_packages() -> set[str]:
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])


def test_every_code_package_is_shipped():
    on_disk = {
        str(p.parent.relative_to(ROOT)).replace(os.sep, ".")
        for top in ("engine", "handlers", "web")
        for p in (ROOT / top).rglob("__init__.py")
        if "node_modules" not in p.parts
    }
    assert on_disk == {p for p in _listed_packages() if not p.startswith("reviewflow_files")}


def _source_copy(tmp: Path) -> Path:
    """The working tree (what git does not ignore) and the built assets, as `make install` leaves a
    checkout."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    source = tmp / "source"
    for name in tracked.decode().split("\0"):
        if name and not name.startswith("tests/") and (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "web" / "static" / "build", source / "web" / "static" / "build")
    return source


@pytest.mark.slow
def test_the_wheel_installed_outside_the_repository_checks_deploys_and_serves(tmp_path):
    source = _source_copy(tmp_path)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(source),
            "--no-deps",
            "-w",
            str(tmp_path / "dist"),
            "--quiet",
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    [wheel] = (tmp_path / "dist").glob("reviewflow-*.whl")
    assert wheel.name.startswith(f"reviewflow-{engine.__version__}-")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--require-hashes", "-r", str(ROOT / "requirements.lock")], check=True, timeout=900)
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True, timeout=300)

    work = tmp_path / "partnership"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWFLOW_") and k != "PYTHONPATH"}
    site = Path(
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import engine, pathlib; print(pathlib.Path(engine.__file__).parent.parent)",
            ],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    assert site.is_relative_to(venv)
    assert not (site / "web" / "static" / "build" / "axe").exists()  # a test tool, not shipped
    reviewflow = str(venv / "bin" / "reviewflow")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [reviewflow, *args], cwd=work, env=env, capture_output=True, text=True, timeout=300
        )

    assert run("--version").stdout.strip() == f"reviewflow {engine.__version__}"
    checked = run("check")
    assert checked.returncode == 0 and checked.stdout.startswith("ok:"), checked.stdout + checked.stderr
    assert re.search(r", [1-9]\d* agencies$", checked.stdout.strip())  # the directory shipped beside them
    deployed = run("deploy")
    assert deployed.returncode == 0 and "deployed rapid_review version 1" in deployed.stdout, deployed.stderr
    port = free_port()
    server = subprocess.Popen(
        [reviewflow, "serve", "--port", str(port), "--interval", "1"],
        cwd=work,
        env={**env, "REVIEWFLOW_INSECURE_COOKIES": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status, deadline = None, time.monotonic() + 90
        while time.monotonic() < deadline and status != 200:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
                    status = answer.status
            except OSError:
                time.sleep(0.5)
        assert status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in", timeout=10) as page:
            assert page.status == 200 and re.search(rb"/static/build/govuk/[^\"]+\.css", page.read())
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (work / "var" / "reviewflow.db").exists() and (work / "var" / "secret_key").exists()
    assert not (site / "var").exists()
