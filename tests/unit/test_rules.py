"""Deadline rule sets: the real files hold every deadline of the catalogue (§3) with its source,
due dates come out right across bank holidays for every unit and direction, and a broken file is
refused with a message naming the file and the deadline key."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest

from engine.calendar import WorkingDayCalendar
from engine.rules import (
    DeadlineError,
    Due,
    Rule,
    RuleSet,
    RuleSetError,
    compute_due,
    load_rulesets,
    parse_ruleset_text,
    resolve_rulesets,
    select_ruleset,
)

D = dt.date.fromisoformat
ENG = WorkingDayCalendar()
RULESET_DIR = Path(__file__).resolve().parents[2] / "processes" / "rulesets"
RULESETS = load_rulesets(RULESET_DIR)

GOOD_RULE = """
[deadlines.R1]
name = "Local authority notifies the Panel"
anchor = "date_aware"
count = 5
unit = "working_days"
direction = "after"
source = "003 §3.6"
"""


def ruleset_text(name: str = "LOCAL", extends: str | None = None, body: str = GOOD_RULE) -> str:
    head = f'name = "{name}"\ntitle = "A local rule set"\n'
    if extends:
        head += f'extends = "{extends}"\n'
    return head + body


# -- the real rule sets ---------------------------------------------------------------------------

# key: (anchor, count, unit, direction, source), as in process-catalogue.md §3
CATALOGUE = {
    "WT2018": {
        "R1": ("date_aware", 5, "working_days", "after", "003 §3.6"),
        "R2": ("date_aware", 5, "working_days", "after", "003 §3.6"),
        "R4": ("notification_date", 10, "working_days", "after", "003 §3.4"),
        "R5": ("notification_date", 10, "working_days", "after", "003 §4.4"),
        "R6": ("notification_date", 15, "working_days", "after", "003 §4.6"),
        "R7": ("notification_date", 15, "working_days", "after", "003 §4.5"),
        "R9": ("decision_date", 6, "calendar_months", "after", "003 §7.8"),
        "R10": ("publication_date", 7, "working_days", "before", "003 §7.7"),
        "R11": ("publication_date", 1, "years", "after", "003 §7.3"),
    },
    "WT2015": {
        "S1": ("date_aware", 5, "working_days", "after", "000 §3.1"),
        "S2": ("notification_date", 1, "calendar_months", "after", "000 §4.6"),
        "S3": ("decision_date", 5, "working_days", "after", "000 Appendix 7"),
        "S4": ("decision_date", 6, "calendar_months", "after", "000 Appendix 4"),
        "S5": ("publication_date", 7, "working_days", "before", "000 Appendix 7"),
        "S6": ("publication_date", 12, "calendar_months", "after", "000 §8.1"),
        "S7": ("report_agreed_date", 6, "calendar_months", "after", '004 "Review of recommendations"'),
        "S8": ("information_required_by", 0, "working_days", "after", "000 Appendix 2"),
    },
}


def test_every_catalogue_deadline_is_in_its_rule_set():
    assert {"WT2015", "WT2018", "WT2023", "BOLTON_PRE2015"} <= set(RULESETS)
    statutory = {"WT2018": [f"R{i}" for i in range(1, 12)], "WT2015": [f"S{i}" for i in range(1, 9)]}
    statutory["WT2023"] = statutory["WT2018"]
    statutory["BOLTON_PRE2015"] = [f"S{i}" for i in range(1, 10)]
    for name, keys in statutory.items():
        assert [
            k
            for k in RULESETS[name].rules
            if re.fullmatch(keys[0][0] + r"\d+", k) and k not in LOCAL_SETTINGS[name]
        ] == keys, name
        # anything else is one of this partnership's named local settings
        assert set(RULESETS[name].rules) - set(keys) == LOCAL_SETTINGS[name], name


LOCAL_SETTINGS = {
    "WT2018": {"RR_AGENCY_INFO", "AGENCY_REPORTS", "S7", "S7N", "RR_PANEL_CHASE"},
    "WT2015": {"AGENCY_REPORTS", "S7N", "PANEL_CHASE"},
}
LOCAL_SETTINGS["WT2023"] = LOCAL_SETTINGS["WT2018"]
LOCAL_SETTINGS["BOLTON_PRE2015"] = LOCAL_SETTINGS["WT2015"]


def test_local_settings_are_marked_as_such_and_cite_their_paragraph():
    for name, keys in LOCAL_SETTINGS.items():
        for key in keys:
            rule = RULESETS[name].rules[key]
            assert not rule.figure_in_source and rule.note and rule.source, (name, key)


@pytest.mark.parametrize("ruleset,key", [(rs, k) for rs, rules in CATALOGUE.items() for k in rules])
def test_figures_anchors_and_sources_match_the_catalogue(ruleset, key):
    rule = RULESETS[ruleset].rules[key]
    anchor, count, unit, direction, source = CATALOGUE[ruleset][key]
    assert (rule.anchor, rule.count, rule.unit, rule.direction) == (anchor, count, unit, direction)
    assert rule.source.startswith(source)
    assert rule.figure_in_source


def test_deadlines_without_a_figure_in_the_documents_are_marked_as_local_settings():
    for key in ("R3", "R8"):
        rule = RULESETS["WT2018"].rules[key]
        assert not rule.figure_in_source and rule.note and rule.unit == "working_days"
    assert RULESETS["WT2018"].rules["R3"].source == "003 §3.7"
    assert RULESETS["WT2018"].rules["R8"].source == "003 §4.7"
    assert "15 days" in RULESETS["WT2018"].rules["R6"].note


def test_every_rule_names_itself_and_cites_a_seed_paragraph():
    for rs in RULESETS.values():
        assert rs.title and rs.source_file.endswith(".toml") and len(rs.content_hash) == 64
        for key, rule in rs.rules.items():
            assert rule.key == key and rule.name and rule.anchor
            assert rule.source[:3] in {"000", "001", "002", "003", "004"}, (rs.name, key, rule.source)


def test_wt2023_inherits_every_wt2018_deadline():
    wt2023, wt2018 = RULESETS["WT2023"], RULESETS["WT2018"]
    assert wt2023.extends == "WT2018" and wt2023.title == "Working Together to Safeguard Children 2023"
    assert wt2023.rules == wt2018.rules
    # its own days in force (never inherited) make it a version of its own
    assert wt2023.in_force.start > wt2018.in_force.end and wt2023.content_hash != wt2018.content_hash


def test_bolton_overrides_s4_and_adds_s9():
    bolton, wt2015 = RULESETS["BOLTON_PRE2015"], RULESETS["WT2015"]
    assert bolton.extends == "WT2015"
    s4, s9 = bolton.rules["S4"], bolton.rules["S9"]
    assert (s4.anchor, s4.count, s4.unit, s4.direction) == ("decision_date", 4, "calendar_months", "after")
    assert s4.source.startswith("004") and "Ofsted" in s4.note
    assert (s9.anchor, s9.count, s9.unit, s9.direction) == ("referral_date", 1, "calendar_months", "after")
    assert s9.source.startswith("004")
    assert wt2015.rules["S4"].count == 6 and "S9" not in wt2015.rules
    assert all(bolton.rules[k] == wt2015.rules[k] for k in wt2015.rules if k != "S4")
    assert bolton.content_hash != wt2015.content_hash


def test_uploaded_text_and_files_on_disk_go_through_the_same_code():
    parsed = [
        parse_ruleset_text(p.name, p.read_text(encoding="utf-8")) for p in sorted(RULESET_DIR.glob("*.toml"))
    ]
    assert resolve_rulesets(parsed) == RULESETS


def test_every_file_says_how_to_change_a_timescale():
    for path in RULESET_DIR.glob("*.toml"):
        header = path.read_text(encoding="utf-8").split("\nname = ")[0]
        assert "Changing a timescale" in header and "reviewflow deploy" in header, path.name


# -- snapshots ------------------------------------------------------------------------------------


def test_snapshot_round_trips_through_json():
    for rs in RULESETS.values():
        snapshot = json.loads(json.dumps(rs.to_dict()))
        again = RuleSet.from_dict(snapshot)
        assert again == rs and again.content_hash == rs.content_hash


def test_content_hash_is_stable_and_follows_the_rules():
    assert load_rulesets(RULESET_DIR)["WT2018"].content_hash == RULESETS["WT2018"].content_hash
    text = (RULESET_DIR / "wt2018.toml").read_text(encoding="utf-8").replace("count = 15", "count = 20", 1)
    changed = resolve_rulesets([parse_ruleset_text("wt2018.toml", text)])["WT2018"]
    assert changed.rules["R6"].count == 20 and changed.content_hash != RULESETS["WT2018"].content_hash


def test_a_snapshot_edited_in_place_is_refused():
    snapshot = RULESETS["WT2018"].to_dict()
    snapshot["rules"]["R1"]["count"] = 50
    with pytest.raises(RuleSetError) as exc:
        RuleSet.from_dict(snapshot)
    assert exc.value.file == "wt2018.toml" and "hash" in exc.value.message


# -- due dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ruleset,key,data,due,on_working_day",
    [
        # working days after, over Christmas 2026: 23 24 | 29 30 31
        ("WT2018", "R1", {"date_aware": "2026-12-22"}, "2026-12-31", True),
        ("WT2018", "R2", {"date_aware": "2026-12-22"}, "2026-12-31", True),
        ("WT2023", "R1", {"date_aware": "2026-12-22"}, "2026-12-31", True),
        # over Easter 2026 (3 and 6 April) and Easter 2027 (26 and 29 March)
        ("WT2018", "R4", {"notification_date": "2026-03-30"}, "2026-04-15", True),
        ("WT2018", "R5", {"notification_date": "2026-03-30"}, "2026-04-15", True),
        ("WT2018", "R6", {"notification_date": "2027-03-15"}, "2027-04-07", True),
        ("WT2018", "R7", {"notification_date": "2027-03-15"}, "2027-04-07", True),
        # working days before: 8 7 | 2 1 | 31 30 27
        ("WT2018", "R10", {"publication_date": "2026-04-09"}, "2026-03-27", True),
        ("WT2015", "S5", {"publication_date": "2027-01-05"}, "2026-12-22", True),
        # calendar months: clamped, and flagged (not moved) when on a weekend
        ("WT2018", "R9", {"decision_date": "2026-08-31"}, "2027-02-28", False),
        ("WT2015", "S2", {"notification_date": "2027-01-31"}, "2027-02-28", False),
        ("WT2015", "S2", {"notification_date": "2026-11-30"}, "2026-12-30", True),
        ("WT2015", "S4", {"decision_date": "2026-08-31"}, "2027-02-28", False),
        (
            "WT2015",
            "S6",
            {"publication_date": "2026-12-25"},
            "2027-12-25",
            False,
        ),  # Christmas Day, a Saturday
        ("WT2015", "S7", {"report_agreed_date": "2026-10-06"}, "2027-04-06", True),
        ("BOLTON_PRE2015", "S4", {"decision_date": "2026-10-31"}, "2027-02-28", False),
        (
            "BOLTON_PRE2015",
            "S9",
            {"referral_date": "2026-11-28"},
            "2026-12-28",
            False,
        ),  # Boxing Day substitute
        # years
        ("WT2018", "R11", {"publication_date": "2028-02-29"}, "2029-02-28", True),
        ("WT2018", "R11", {"publication_date": "2026-12-24"}, "2027-12-24", True),
        # 5 working days from the chair's decision, over Easter 2027: 30 31 1 2 | 5
        ("WT2015", "S3", {"decision_date": "2027-03-25"}, "2027-04-05", True),
        # zero working days: the date on the request is the deadline, even on a holiday
        ("WT2015", "S8", {"information_required_by": "2026-12-24"}, "2026-12-24", True),
        ("WT2015", "S8", {"information_required_by": "2026-12-25"}, "2026-12-25", False),
    ],
)
def test_due_dates(ruleset, key, data, due, on_working_day):
    rule = RULESETS[ruleset].rules[key]
    result = compute_due(rule, data, ENG)
    anchor = D(next(iter(data.values())))
    assert result == Due(key, rule.name, rule.anchor, anchor, D(due), on_working_day, rule.source)


@pytest.mark.parametrize(
    "direction,count,expected",
    [
        ("after", 15, "2027-01-04"),
        ("before", 15, "2026-12-05"),
        ("after", 0, "2026-12-20"),
    ],
)
def test_calendar_days(direction, count, expected):
    rule = Rule("X1", "Calendar-day deadline", "start_date", count, "calendar_days", direction, "local")
    assert compute_due(rule, {"start_date": "2026-12-20"}, ENG).due_date == D(expected)


@pytest.mark.parametrize(
    "unit,count,expected",
    [
        ("calendar_months", 1, "2026-02-28"),
        ("years", 1, "2025-03-31"),
        ("working_days", 7, "2026-03-20"),
    ],
)
def test_before_for_month_and_year_units(unit, count, expected):
    rule = Rule("X2", "Before", "publication_date", count, unit, "before", "local")
    assert compute_due(rule, {"publication_date": "2026-03-31"}, ENG).due_date == D(expected)


def test_due_dates_follow_the_administrators_overrides():
    rule = RULESETS["WT2018"].rules["R1"]
    cal = WorkingDayCalendar(extra_holidays=[D("2026-12-29")])
    assert compute_due(rule, {"date_aware": "2026-12-22"}, cal).due_date == D("2027-01-04")
    cal = WorkingDayCalendar(cancelled_holidays=[D("2026-12-28")])
    assert compute_due(rule, {"date_aware": "2026-12-22"}, cal).due_date == D("2026-12-30")


@pytest.mark.parametrize(
    "value", [D("2026-12-22"), "2026-12-22", "2026-12-22T10:30:00+00:00", dt.datetime(2026, 12, 22, 10, 30)]
)
def test_anchor_forms_accepted(value):
    due = compute_due(RULESETS["WT2018"].rules["R1"], {"date_aware": value}, ENG)
    assert (due.anchor_date, due.due_date) == (D("2026-12-22"), D("2026-12-31"))


@pytest.mark.parametrize(
    "data,message",
    [
        ({}, "no 'date_aware'"),
        ({"date_aware": None}, "no 'date_aware'"),
        ({"date_aware": ""}, "no 'date_aware'"),
        ({"notification_date": "2026-12-22"}, "no 'date_aware'"),
        ({"date_aware": "21/12/2026"}, "not a date"),
        ({"date_aware": "2026-13-01"}, "not a date"),
        ({"date_aware": "20261221"}, "not a date"),
        ({"date_aware": "yesterday"}, "not a date"),
        ({"date_aware": 20261221}, "not a date"),
        ({"date_aware": True}, "not a date"),
    ],
)
def test_missing_or_malformed_anchor_names_the_deadline_and_the_field(data, message):
    with pytest.raises(DeadlineError) as exc:
        compute_due(RULESETS["WT2018"].rules["R1"], data, ENG)
    assert "R1" in str(exc.value) and "date_aware" in str(exc.value) and message in str(exc.value)


def test_select_ruleset():
    assert select_ruleset(RULESETS, {"regime": "WT2018"}).name == "WT2018"
    assert (
        select_ruleset(RULESETS, {"regime": "WT2015", "ruleset": "BOLTON_PRE2015"}).name == "BOLTON_PRE2015"
    )
    assert select_ruleset(RULESETS, {"regime": "WT2023", "ruleset": ""}).name == "WT2023"
    with pytest.raises(DeadlineError, match=r"names no rule set.*regime"):
        select_ruleset(RULESETS, {})
    with pytest.raises(DeadlineError, match=r"'ruleset' is 'LEEDS'.*known: BOLTON_PRE2015"):
        select_ruleset(RULESETS, {"regime": "WT2018", "ruleset": "LEEDS"})
    with pytest.raises(DeadlineError, match="'regime' is 'WT1999'"):
        select_ruleset(RULESETS, {"regime": "WT1999"})


# -- local overrides ------------------------------------------------------------------------------


def test_a_local_override_replaces_some_rules_and_adds_others(tmp_path):
    for path in RULESET_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "banes.toml").write_text(
        ruleset_text(
            "BANES",
            "WT2018",
            """
[deadlines.R6]
name = "Executive Group ratifies the rapid review"
anchor = "date_aware"
count = 15
unit = "working_days"
direction = "after"
source = "003 §4.6"
note = "Counted from the date partners became aware (catalogue §7)."

[deadlines.LOCAL1]
name = "Family told of the decision"
anchor = "decision_date"
count = 10
unit = "working_days"
direction = "after"
source = "003 §5.3"
figure_in_source = false
note = "Local setting."
""",
        ),
        encoding="utf-8",
    )
    loaded = load_rulesets(tmp_path)
    banes, wt2018 = loaded["BANES"], loaded["WT2018"]
    assert banes.rules["R6"].anchor == "date_aware" and wt2018.rules["R6"].anchor == "notification_date"
    assert banes.rules["R1"] == wt2018.rules["R1"] and "LOCAL1" in banes.rules
    assert [k for k in banes.rules if k == "LOCAL1" or re.fullmatch(r"R\d+", k)] == ["LOCAL1"] + [
        f"R{i}" for i in range(1, 12)
    ]  # by letters, then number
    assert banes.source_file == "banes.toml" and banes.content_hash != wt2018.content_hash


def test_a_chain_of_overrides_resolves_through_every_parent():
    sets = resolve_rulesets(
        [
            parse_ruleset_text("a.toml", ruleset_text("AA")),
            parse_ruleset_text(
                "b.toml", ruleset_text("BB", "AA", GOOD_RULE.replace("count = 5", "count = 7"))
            ),
            parse_ruleset_text("c.toml", ruleset_text("CC", "BB", "")),
        ]
    )
    assert sets["CC"].rules["R1"].count == 7 and sets["AA"].rules["R1"].count == 5


# -- broken files ---------------------------------------------------------------------------------


def _field_rule(**changes) -> str:
    fields = {
        "name": '"Local authority notifies the Panel"',
        "anchor": '"date_aware"',
        "count": "5",
        "unit": '"working_days"',
        "direction": '"after"',
        "source": '"003 §3.6"',
    }
    fields.update(changes)
    return "\n[deadlines.R1]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items() if v is not None)


@pytest.mark.parametrize(
    "body,key,message",
    [
        (_field_rule(unit='"fortnights"'), "R1", "unit must be one of working_days"),
        (_field_rule(direction='"around"'), "R1", "direction must be after or before"),
        (_field_rule(count="-1"), "R1", "count must be a whole number"),
        (_field_rule(count="2.5"), "R1", "count must be a whole number"),
        (_field_rule(count="true"), "R1", "count must be a whole number"),
        (_field_rule(count='"5"'), "R1", "count must be a whole number"),
        (_field_rule(source=None), "R1", "missing source"),
        (_field_rule(anchor=None, unit=None), "R1", "missing anchor, unit"),
        (_field_rule(source='"  "'), "R1", "source must be non-empty"),
        (_field_rule(name='""'), "R1", "name must be non-empty"),
        (_field_rule(anchor='"date-aware"'), "R1", "anchor must be the name of a date field"),
        (_field_rule(anchor="5"), "R1", "anchor must be the name of a date field"),
        (_field_rule(days="5"), "R1", "unknown field(s): days"),
        (_field_rule(figure_in_source='"no"'), "R1", "figure_in_source must be true or false"),
        (_field_rule(figure_in_source="false"), "R1", "needs a note"),
        (_field_rule(note="3"), "R1", "note must be text"),
        (
            _field_rule().replace("[deadlines.R1]", "[deadlines.r1]"),
            "r1",
            "deadline keys are capital letters",
        ),
        ("\n[deadlines]\nR1 = 5\n", "R1", "a deadline must be a table"),
    ],
)
def test_bad_rules_name_the_file_and_the_key(body, key, message):
    with pytest.raises(RuleSetError) as exc:
        parse_ruleset_text("local.toml", ruleset_text(body=body))
    assert (exc.value.file, exc.value.key) == ("local.toml", key)
    assert message in exc.value.message
    assert str(exc.value).startswith(f"local.toml: {key}: ")


@pytest.mark.parametrize(
    "text,message",
    [
        ('title = "No name"\n' + GOOD_RULE, "'name' must be a rule-set name"),
        ('name = "wt2018"\n' + GOOD_RULE, "'name' must be a rule-set name"),
        ('name = "LOCAL"\ntitle = ""\n' + GOOD_RULE, "'title' must be non-empty"),
        ('name = "LOCAL"\nextends = 2018\n', "'extends' must name another rule set"),
        ('name = "LOCAL"\ntimescales = 5\n' + GOOD_RULE, "unknown setting(s): timescales"),
        ('name = "LOCAL"\ndeadlines = 5\n', "[deadlines] must be a table"),
    ],
)
def test_bad_top_level_settings_name_the_file(text, message):
    with pytest.raises(RuleSetError) as exc:
        parse_ruleset_text("local.toml", text)
    assert (exc.value.file, exc.value.key) == ("local.toml", None) and message in exc.value.message
    assert str(exc.value).startswith("local.toml: -: ")


@pytest.mark.parametrize(
    "text,line",
    [
        ('name = "LOCAL"\n[deadlines.R1\nname = "x"\n', 2),
        ('name = "LOCAL"\n' + GOOD_RULE + "count = 6\n", 10),  # the same field twice
        ('name = "LOCAL"\n' + GOOD_RULE.replace('"date_aware"', '"date_aware'), 5),
    ],
)
def test_malformed_toml_names_the_file_and_the_line(text, line):
    with pytest.raises(RuleSetError) as exc:
        parse_ruleset_text("local.toml", text)
    assert exc.value.file == "local.toml" and exc.value.line == line
    assert exc.value.message.startswith(f"not valid TOML at line {line}: ")
    assert str(exc.value).startswith(f"local.toml: -: not valid TOML at line {line}")


def test_malformed_toml_on_disk_names_the_file(tmp_path):
    (tmp_path / "good.toml").write_text(ruleset_text("GOOD"), encoding="utf-8")
    (tmp_path / "broken.toml").write_text('name = "BROKEN"\n\n[deadlines.R1\n', encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"^broken\.toml: -: not valid TOML at line 3"):
        load_rulesets(tmp_path)


def test_a_bad_unit_on_disk_names_the_file_and_the_key(tmp_path):
    (tmp_path / "local.toml").write_text(ruleset_text(body=_field_rule(unit='"weeks"')), encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"^local\.toml: R1: unit must be one of .*not 'weeks'"):
        load_rulesets(tmp_path)


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    (tmp_path / "latin1.toml").write_bytes('name = "LOCAL"\ntitle = "Caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(RuleSetError, match=r"^latin1\.toml: -: not UTF-8"):
        load_rulesets(tmp_path)


def test_unknown_parent_is_named(tmp_path):
    (tmp_path / "local.toml").write_text(ruleset_text("LOCAL", "WT2099"), encoding="utf-8")
    with pytest.raises(RuleSetError) as exc:
        load_rulesets(tmp_path)
    assert (exc.value.file, exc.value.key) == ("local.toml", None)
    assert "extends WT2099, which does not exist" in exc.value.message


@pytest.mark.parametrize(
    "files",
    [
        {"a.toml": ("AA", "BB"), "b.toml": ("BB", "AA")},
        {"a.toml": ("AA", "BB"), "b.toml": ("BB", "CC"), "c.toml": ("CC", "AA")},
        {"a.toml": ("AA", None), "b.toml": ("BB", "CC"), "c.toml": ("CC", "BB")},
    ],
)
def test_cycles_are_refused(tmp_path, files):
    for file, (name, parent) in files.items():
        (tmp_path / file).write_text(ruleset_text(name, parent), encoding="utf-8")
    with pytest.raises(RuleSetError) as exc:
        load_rulesets(tmp_path)
    assert exc.value.file in files and exc.value.key is None and "cycle" in exc.value.message


def test_a_rule_set_extending_itself_is_a_cycle():
    with pytest.raises(RuleSetError, match=r"^self\.toml: -: extends forms a cycle: SELF -> SELF"):
        parse_ruleset_text("self.toml", ruleset_text("SELF", "SELF"))


def test_two_files_with_one_name_are_refused(tmp_path):
    (tmp_path / "a.toml").write_text(ruleset_text("LOCAL"), encoding="utf-8")
    (tmp_path / "b.toml").write_text(ruleset_text("LOCAL"), encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"^b\.toml: -: rule set LOCAL is also defined in a\.toml"):
        load_rulesets(tmp_path)


# -- the days a national rule set is in force -------------------------------------------------------


def _dated(name: str, days: str, extends: str | None = None) -> str:
    return ruleset_text(name, extends, f"\n[in_force]\n{days}\n" + GOOD_RULE)


def test_the_set_in_force_on_a_day_is_the_one_whose_days_cover_it():
    from engine.rules import regime_of, ruleset_in_force

    assert ruleset_in_force(RULESETS, D("2015-03-25")) is None  # before Working Together 2015
    assert [
        ruleset_in_force(RULESETS, D(day)).name
        for day in ("2015-03-26", "2018-06-28", "2018-06-29", "2023-12-14", "2023-12-15", "2030-01-01")
    ] == ["WT2015", "WT2015", "WT2018", "WT2018", "WT2023", "WT2023"]
    assert regime_of(RULESETS, "BOLTON_PRE2015") == "WT2015" and regime_of(RULESETS, "WT2023") == "WT2023"
    assert regime_of(RULESETS, "LEEDS") is None


def test_days_in_force_are_kept_in_the_snapshot_and_a_set_without_them_hashes_as_before():
    snapshot = json.loads(json.dumps(RULESETS["WT2023"].to_dict()))
    assert snapshot["in_force"] == {
        "from": "2023-12-15",
        "until": None,
        "source": RULESETS["WT2023"].in_force.source,
        "note": "",
    }
    assert RuleSet.from_dict(snapshot) == RULESETS["WT2023"]
    undated = resolve_rulesets([parse_ruleset_text("a.toml", ruleset_text("AA"))])["AA"]
    dated = resolve_rulesets([parse_ruleset_text("a.toml", _dated("AA", 'from = 2020-01-01\nsource = "x"'))])[
        "AA"
    ]
    assert "in_force" not in undated.to_dict() and undated.content_hash != dated.content_hash
    moved = resolve_rulesets([parse_ruleset_text("a.toml", _dated("AA", 'from = 2020-01-02\nsource = "x"'))])[
        "AA"
    ]
    assert moved.content_hash != dated.content_hash  # new days deploy a new version


@pytest.mark.parametrize(
    "days,message",
    [
        ('until = 2020-01-01\nsource = "x"', "missing from"),
        ('from = "soon"\nsource = "x"', "from must be a date"),
        ('from = 2020-01-02\nuntil = 2020-01-01\nsource = "x"', "is before from"),
        ("from = 2020-01-01", "source must say where the dates come from"),
        ('from = 2020-01-01\nsource = "x"\nto = 2021-01-01', "unknown field(s): to"),
    ],
)
def test_bad_days_in_force_name_the_file(days, message):
    with pytest.raises(RuleSetError) as exc:
        parse_ruleset_text("local.toml", _dated("LOCAL", days))
    assert (exc.value.file, exc.value.key) == ("local.toml", None) and message in exc.value.message


def test_two_sets_in_force_on_the_same_day_are_refused():
    with pytest.raises(RuleSetError) as exc:
        resolve_rulesets(
            [
                parse_ruleset_text("a.toml", _dated("AA", 'from = 2020-01-01\nsource = "x"')),
                parse_ruleset_text("b.toml", _dated("BB", 'from = 2022-01-01\nsource = "y"')),
            ]
        )
    assert exc.value.file == "b.toml" and "overlaps AA" in exc.value.message


# -- an agreed new due date (extended_by) -----------------------------------------------------------


def test_bolton_s4_moves_to_the_date_agreed_with_ofsted():
    """004 "Timescales": four months "unless an alternative timescale is agreed with the OFSTED": Bolton's
    S4 names the case-data field holding the agreed date, and that date is S4's due date once recorded."""
    s4 = RULESETS["BOLTON_PRE2015"].rules["S4"]
    assert s4.extended_by == "s4_extended_to" and RULESETS["WT2015"].rules["S4"].extended_by == ""
    assert compute_due(s4, {"decision_date": "2027-12-01"}, ENG).due_date == D("2028-04-01")
    for empty in (None, ""):
        assert compute_due(s4, {"decision_date": "2027-12-01", "s4_extended_to": empty}, ENG).due_date == D(
            "2028-04-01"
        )
    due = compute_due(s4, {"decision_date": "2027-12-01", "s4_extended_to": "2028-06-30"}, ENG)
    assert (due.anchor_date, due.due_date, due.on_working_day) == (D("2027-12-01"), D("2028-06-30"), True)
    assert due.extended_by == "s4_extended_to" and due.computed_date == D("2028-04-01")


def test_a_malformed_agreed_date_names_the_deadline_and_the_field():
    """004 "Timescales": the agreed timescale is a date; anything else in its field is an error, never
    ignored."""
    with pytest.raises(DeadlineError) as exc:
        compute_due(
            RULESETS["BOLTON_PRE2015"].rules["S4"],
            {"decision_date": "2027-12-01", "s4_extended_to": "June"},
            ENG,
        )
    assert "S4" in str(exc.value) and "s4_extended_to" in str(exc.value) and "not a date" in str(exc.value)


@pytest.mark.parametrize(
    "value,message",
    [
        ('"s4-extended"', "extended_by must be the name of the case-data date field"),
        ("5", "extended_by must be the name of the case-data date field"),
        ('"date_aware"', "extended_by cannot be the anchor"),
    ],
)
def test_bad_extended_by_names_the_file_and_the_key(value, message):
    """004 "Timescales": an agreed date is read from one case-data date field, named like an anchor."""
    with pytest.raises(RuleSetError) as exc:
        parse_ruleset_text("local.toml", ruleset_text(body=_field_rule(extended_by=value)))
    assert (exc.value.file, exc.value.key) == ("local.toml", "R1") and message in exc.value.message


def test_a_rule_without_extended_by_keeps_its_snapshot_and_hash():
    """Cases keep the rule set they started with (004 "Timescales" added extended_by to S4 only): a rule
    without it is stored, and hashed, as before the field existed."""
    wt2015 = RULESETS["WT2015"].to_dict()
    assert "extended_by" not in wt2015["rules"]["S4"]
    assert RULESETS["BOLTON_PRE2015"].to_dict()["rules"]["S4"]["extended_by"] == "s4_extended_to"
