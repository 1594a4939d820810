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
        return subprocess.run(
            [*CLI, *args], cwd=ROOT, env=environ, input=stdin, capture_output=True, text=True, timeout=120
        )

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
    added = run(
        "user",
        "add",
        "sam",
        "--role",
        "Business Unit",
        "--role",
        "manager",
        "--password-stdin",
        stdin="a long enough passphrase\n",
    )
    assert added.returncode == 0, added.stderr
    token = run("token", "create", "sam")
    assert token.returncode == 0 and token.stdout.startswith("rf_")
    assert run("token", "create", "nobody").returncode == 1
    assert run("user", "add", "sam", "--role", "manager").returncode == 1


def test_check_reports_one_line_per_problem_and_exit_1(run, tmp_path):
    bad = tmp_path / "procs"
    shutil.copytree(ROOT / "processes", bad)
    demo = bad / "demo" / "engine_demo.bpmn"
    demo.write_text(
        demo.read_text()
        .replace('value="demo_incident.json"', 'value="nope.json"')
        .replace(
            'id="send_notification" resultVariable="panel_notice"',
            'id="send_fax" resultVariable="panel_notice"',
        )
    )
    result = run("check", str(bad), str(ROOT / "forms"))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert "engine_demo.bpmn: record_incident: form 'nope.json' does not exist in forms/" in lines
    assert any(
        line.startswith("engine_demo.bpmn: notify_panel: no handler named 'send_fax'") for line in lines
    )
    assert run("check", str(tmp_path / "missing")).returncode == 1


def test_check_names_the_line_of_each_problem_in_the_directory_of_agencies(run, tmp_path):
    directory = tmp_path / "agencies.toml"
    directory.write_text('[agencies.police]\nname = "Police"\n\n[agencies.education]\nrole = "Education"\n')
    result = run("check", REVIEWFLOW_AGENCIES_FILE=str(directory))
    assert result.returncode == 1
    assert f"{directory}:4: agency 'education' needs a name of 1 to 100 characters on one line" in (
        result.stdout.splitlines()
    )
    directory.write_text('[agencies.police]\nname = "Police"\n')
    fixed = run("check", REVIEWFLOW_AGENCIES_FILE=str(directory))
    assert fixed.returncode == 0 and fixed.stdout.strip().endswith(", 1 agencies"), fixed.stdout


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


def test_version_is_the_package_s_one_version(run):
    import engine

    result = run("--version")
    assert result.returncode == 0 and result.stdout == f"reviewflow {engine.__version__}\n"


def test_calendar_changes_a_day_only_with_an_explicit_flag(run):
    assert run("calendar", "2026-12-29", "--holiday", "--note", "Office closed").returncode == 0
    bare = run("calendar", "2026-12-29")
    assert bare.returncode == 2 and "--holiday, --working or --clear" in bare.stderr
    assert run("calendar").stdout.split("\n")[0] == "2026-12-29 holiday Office closed"  # still there
    assert run("calendar", "2026-12-29", "--working", "--clear").returncode == 2  # one flag only
    cleared = run("calendar", "2026-12-29", "--clear")
    assert cleared.returncode == 0 and run("calendar").stdout == ""


def test_roles_are_checked_against_the_deployed_processes(run):
    unknown = run("user", "add", "lee", "--role", "Busines Unit")
    assert unknown.returncode == 1 and "unknown role(s): Busines Unit" in unknown.stderr
    assert run("deploy").returncode == 0
    assert run("user", "add", "lee", "--role", "Business Unit", "--role", "Agency: Police").returncode == 0
    assert run("user", "add", "lee", "--role", "manager").returncode == 1  # refused: already exists


def test_expected_failures_are_one_line_never_a_traceback(run):
    unreachable = run("roles", REVIEWFLOW_DATABASE_URL="postgresql://rf:s3cret@127.0.0.1:1/reviewflow")
    assert unreachable.returncode == 2
    assert unreachable.stderr.strip().splitlines() == [
        "the database cannot be reached (postgresql://rf:***@127.0.0.1:1/reviewflow): OperationalError"
    ]
    missing = run("token", "create", "nobody")
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert "Traceback" not in missing.stderr + unreachable.stderr


def test_migrate_brings_the_schema_to_this_code_s_revision_and_exits(run):
    from engine.store.db import SCHEMA_REVISION

    migrated = run("migrate")
    assert migrated.returncode == 0 and migrated.stdout == f"schema at revision {SCHEMA_REVISION}\n"
    assert run("status").stdout.splitlines()[1] == f"schema: ok (revision {SCHEMA_REVISION})"


def test_a_user_s_e_mail_address_and_choice_of_new_task_e_mails(run):
    assert run("deploy").returncode == 0
    added = run("user", "add", "lee", "--role", "Business Unit", "--email", "lee@example.org")
    assert added.returncode == 0, added.stderr
    assert run("user", "show", "lee").stdout.splitlines() == [
        "lee",
        "roles: Business Unit",
        "active: yes",
        "e-mail: lee@example.org",
        "new-task e-mails: on",
    ]
    wrong = run("user", "email", "lee", "lee at example.org")
    assert wrong.returncode == 1 and "correct format" in wrong.stderr and "Traceback" not in wrong.stderr
    assert run("user", "email", "lee", "").returncode == 0
    assert "e-mail: (none)" in run("user", "show", "lee").stdout
    assert run("user", "add", "kim", "--role", "Business Unit", "--email", "kim@").returncode == 1
    assert run("user", "show", "kim").returncode == 1
