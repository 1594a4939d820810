"""Logs: one JSON line per request and per engine command, with who, what, the outcome and how long,
and never a child's name or any other case data (the data of a step, a search, an error's message)."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from engine import config, logs
from engine.services.errors import Forbidden
from tests.conftest import BUSINESS_UNIT, make_settings
from tests.signed_in import manager_client

NAME = "Jamie Example-Child"


@pytest.fixture
def log_lines():
    """Every record logged while the test runs, as the JSON lines `serve` and `worker` write."""
    stream = io.StringIO()
    root, spiff = logging.getLogger(), logging.getLogger("spiff")
    before = (root.handlers[:], root.level, spiff.level)
    logs.configure("INFO", "json", stream)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.handlers[:], _, _ = before
        root.setLevel(before[1])
        spiff.setLevel(before[2])


def _start_demo(deployed) -> int:
    return deployed.instances.start("engine_demo", {"regime": "WT2018"}, BUSINESS_UNIT)["id"]


def test_each_command_is_one_line_with_case_actor_outcome_and_duration_and_no_case_data(deployed, log_lines):
    iid = _start_demo(deployed)
    [task] = [t for t in deployed.tasks.for_user(BUSINESS_UNIT) if t["instance_id"] == iid]
    deployed.instances.complete_task(
        task["id"],
        {
            "date_aware": "2026-12-14",
            "child_died": False,
            "seriously_harmed": True,
            "abuse_or_neglect": "suspected",
            "summary": f"{NAME} was admitted to hospital.",
        },
        BUSINESS_UNIT,
    )
    with pytest.raises(Forbidden):
        deployed.instances.set_status(iid, "suspend", BUSINESS_UNIT, f"{NAME} moved away")
    lines = log_lines()
    commands = [line for line in lines if line["logger"] == "reviewflow.engine" and "command" in line]
    assert [(c["command"], c["instance_id"], c["actor"], c["outcome"]) for c in commands] == [
        ("start", iid, "bina", "ok"),
        ("complete_task", iid, "bina", "ok"),
        ("set_status", iid, "bina", "forbidden"),
    ]
    assert commands[1]["task_id"] == task["id"]
    assert all(
        isinstance(c["duration_ms"], float) and c["level"] == "INFO" and c["time"].endswith("+00:00")
        for c in commands
    )
    assert [line for line in lines if NAME in json.dumps(line)] == []


def test_a_library_s_extra_fields_are_never_written():
    record = logging.LogRecord("spiff.task", logging.WARNING, __file__, 1, "State changed", (), None)
    record.data = {"child_name": NAME}  # as SpiffWorkflow's task logger attaches
    assert NAME not in logs.JsonLines().format(record)


def test_each_request_is_one_line_without_its_query_string_and_with_a_request_id(database_url, log_lines):
    from engine.services import Reviewflow
    from web.app import create_app

    service = Reviewflow(
        make_settings(database_url, REVIEWFLOW_INSECURE_COOKIES="1", REVIEWFLOW_SECRET_KEY="k" * 40)
    )
    client = manager_client(create_app(service))
    answer = client.get(f"/cases?q={NAME}")
    [line] = [
        line for line in log_lines() if line["logger"] == "reviewflow.request" and line["path"] == "/cases"
    ]
    assert (line["method"], line["route"], line["status"], line["actor"]) == (
        "GET",
        "/cases",
        200,
        "pages-manager",
    )
    assert answer.status_code == 200 and line["request_id"] == answer.headers["X-Request-Id"]
    assert NAME not in json.dumps(log_lines()) and "q=" not in json.dumps(line)
    service.db.dispose()


def test_a_request_id_from_the_client_is_believed_only_behind_a_trusted_proxy(database_url):
    from engine.services import Reviewflow
    from web.app import create_app

    for proxies, believed in (("0", False), ("1", True)):
        service = Reviewflow(make_settings(database_url, REVIEWFLOW_TRUSTED_PROXIES=proxies))
        answer = (
            create_app(service).test_client().get("/healthz", headers={"X-Request-Id": "proxy-id-12345678"})
        )
        assert (answer.headers["X-Request-Id"] == "proxy-id-12345678") is believed
        service.db.dispose()


def test_an_exception_is_logged_as_its_traceback_without_its_message():
    try:
        raise ValueError(f"could not read {NAME}'s record")
    except ValueError:
        record = logging.LogRecord("reviewflow.worker", logging.ERROR, __file__, 1, "pass failed", (), None)
        record.exc_info = sys.exc_info()
    line = json.loads(logs.JsonLines().format(record))
    assert "ValueError (message withheld" in line["traceback"] and NAME not in json.dumps(line)


def test_level_and_format_are_settings_and_a_wrong_one_is_refused():
    settings = config.load({"REVIEWFLOW_LOG_LEVEL": "warning", "REVIEWFLOW_LOG_FORMAT": "TEXT"})
    assert (settings.log_level, settings.log_format) == ("WARNING", "text")
    for wrong in ({"REVIEWFLOW_LOG_LEVEL": "LOUD"}, {"REVIEWFLOW_LOG_FORMAT": "xml"}):
        with pytest.raises(config.ConfigError):
            config.load(wrong)
