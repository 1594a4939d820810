"""The reviewflow command line, run as a real subprocess against a real database."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CLI = [sys.executable, "-m", "web.cli"]


@pytest.fixture
def run(sqlite_url, tmp_path):
    def call(*args, stdin: str | None = None, **env):
        environ = {**os.environ, "REVIEWFLOW_DATABASE_URL": sqlite_url, **env}
        return subprocess.run([*CLI, *args], cwd=ROOT, env=environ, input=stdin, capture_output=True, text=True,
                              timeout=120)
    return call


def test_check_deploy_roles_users_and_tokens(run):
    checked = run("check")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("ok:")
    deployed = run("deploy")
    assert deployed.returncode == 0 and "deployed engine_demo version 1" in deployed.stdout
    assert run("deploy").stdout.strip() == "nothing changed"
    roles = run("roles").stdout.split("\n")
    assert {"Business Unit", "Contributing agency", "manager", "process_owner", "admin"} <= set(roles)
    added = run("user", "add", "sam", "--role", "Business Unit", "--role", "manager", "--password-stdin",
                stdin="a long enough passphrase\n")
    assert added.returncode == 0, added.stderr
    token = run("token", "create", "sam")
    assert token.returncode == 0 and token.stdout.startswith("rf_")
    assert run("token", "create", "nobody").returncode == 1
    assert run("user", "add", "sam", "--role", "manager").returncode == 1


def test_check_reports_one_line_per_problem_and_exit_1(run, tmp_path):
    bad = tmp_path / "procs"
    shutil.copytree(ROOT / "processes", bad)
    demo = bad / "demo" / "engine_demo.bpmn"
    demo.write_text(demo.read_text().replace('value="demo_incident.json"', 'value="nope.json"')
                    .replace('id="send_notification" resultVariable="panel_notice"', 'id="send_fax" resultVariable="panel_notice"'))
    result = run("check", str(bad), str(ROOT / "forms"))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert "engine_demo.bpmn: record_incident: form 'nope.json' does not exist in forms/" in lines
    assert any(line.startswith("engine_demo.bpmn: notify_panel: no handler named 'send_fax'") for line in lines)
    assert run("check", str(tmp_path / "missing")).returncode == 1


def test_fake_clock_is_refused_in_production(run):
    result = run("roles", REVIEWFLOW_ENV="production", REVIEWFLOW_FAKE_NOW="2026-01-01T00:00:00Z")
    assert result.returncode == 2 and "REVIEWFLOW_FAKE_NOW" in result.stderr


def test_revoked_tokens_and_disabled_users_are_refused(run, sqlite_url):
    from engine import config
    from engine.services import Reviewflow
    from engine.services.errors import Unauthorized

    assert run("user", "add", "kim", "--role", "manager").returncode == 0
    token = run("token", "create", "kim").stdout.strip()
    service = Reviewflow(config.load({"REVIEWFLOW_DATABASE_URL": sqlite_url}))
    assert service.users.actor_for_token(token).username == "kim"
    assert run("user", "disable", "kim").returncode == 0
    with pytest.raises(Unauthorized):
        service.users.actor_for_token(token)
    assert run("user", "enable", "kim").returncode == 0
    assert service.users.actor_for_token(token).username == "kim"
    assert run("token", "revoke", "kim").stdout.strip() == "revoked 1 token(s) of kim"
    with pytest.raises(Unauthorized):
        service.users.actor_for_token(token)
    assert run("token", "revoke", "nobody").returncode == 1
