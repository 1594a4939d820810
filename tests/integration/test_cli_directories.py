"""The command line shares the administration's service methods for the named recipients and the agencies
(``reviewflow recipients``, ``reviewflow agencies``); ``deploy`` says what the seed files did and which keys
it kept as an administrator changed them; ``check`` warns of a recipient a diagram names that has no
addresses. Run as real subprocesses against a real database."""

from __future__ import annotations

from tests.integration.test_cli import run  # noqa: F401  (the fixture)


def test_recipients_are_listed_set_refused_and_tested(run, tmp_path):  # noqa: F811
    listed = run("recipients")
    assert listed.returncode == 0, listed.stderr
    assert "panel\tpanel-notifications@example.org\t" in listed.stdout.splitlines()
    changed = run("recipients", "set", "panel", "a@example.org", "b@example.org", "--description", "Panel")
    assert changed.returncode == 0 and changed.stdout.strip() == "changed panel: a@example.org, b@example.org"
    refused = run("recipients", "set", "panel", "not an address")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "panel\ta@example.org, b@example.org\tPanel" in run("recipients").stdout.splitlines()
    added = run("recipients", "set", "youth_panel", "yp@example.org")
    assert added.stdout.strip() == "added youth_panel: yp@example.org"
    tested = run("recipients", "test", "panel")
    assert tested.stdout.strip() == "test message queued for a@example.org, b@example.org"


def test_deploy_names_the_keys_it_kept_as_changed_in_the_browser(run, tmp_path):  # noqa: F811
    seed = tmp_path / "recipients.toml"
    seed.write_text('[recipients]\npanel = "panel@example.org"\n')
    first = run("deploy", REVIEWFLOW_RECIPIENTS_FILE=str(seed))
    assert first.returncode == 0, first.stderr
    assert "recipients: added 'panel' from" in first.stdout
    run("recipients", "set", "panel", "office@example.org", REVIEWFLOW_RECIPIENTS_FILE=str(seed))
    seed.write_text('[recipients]\npanel = "elsewhere@example.org"\n')
    again = run("deploy", REVIEWFLOW_RECIPIENTS_FILE=str(seed))
    assert "recipients: kept 'panel' as changed in the browser by cli" in again.stdout
    assert "panel\toffice@example.org\t" in run("recipients", REVIEWFLOW_RECIPIENTS_FILE=str(seed)).stdout


def test_check_warns_of_a_recipient_a_diagram_names_without_addresses(run, tmp_path):  # noqa: F811
    seed = tmp_path / "recipients.toml"
    seed.write_text('[recipients]\nbusiness_unit = "bu@example.org"\n')
    checked = run("check", REVIEWFLOW_RECIPIENTS_FILE=str(seed))
    assert checked.returncode == 0, checked.stdout
    assert "warning: incident_notification.bpmn: names the recipient 'panel', which has no addresses" in (
        checked.stdout
    )


def test_agencies_are_added_renamed_retired_and_reactivated(run):  # noqa: F811
    added = run("agencies", "add", "youth_justice", "Youth justice", "--lead", "yj@example.org")
    assert added.stdout.strip() == "added youth_justice: Youth justice (role Agency: Youth justice)"
    assert run("agencies", "add", "youth_justice", "Other").returncode == 1
    run("agencies", "change", "youth_justice", "--name", "Youth justice service")
    run("agencies", "retire", "youth_justice")
    line = next(x for x in run("agencies").stdout.splitlines() if x.startswith("youth_justice\t"))
    assert line == "youth_justice\tYouth justice service\tAgency: Youth justice\tyj@example.org\t0\tretired"
    assert run("agencies", "reactivate", "youth_justice").stdout.strip() == "reactivated youth_justice"
