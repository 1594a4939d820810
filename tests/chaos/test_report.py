"""The chaos suite's arithmetic, on records made by hand: lost, doubled, late and duplicated are
counted the way the README states them (the suite itself runs with ``make chaos``, not here)."""

from __future__ import annotations

from tests.chaos.report import Planned, duplicate_causes, evaluate, firings, mail, missed, timer_index

T0 = 1_000_000.0


def row(id_, instance, tick, recipient, created, body=None, status="sent"):
    text = (
        body
        if body is not None
        else f"The deadline R1 for case RF-1 passed at the end of chaos-tick-{tick}\n"
    )
    return {
        "id": id_,
        "instance_id": instance,
        "recipient": recipient,
        "body": text,
        "status": status,
        "attempts": 1,
        "message_id": f"<m{id_}@reviewflow>",
        "created_at": created,
        "sent_at": created,
        "last_error": None,
    }


def got(id_, at):
    return {"message_id": f"<m{id_}@reviewflow>", "at": at, "recipients": ("x",), "subject": "s", "body": ""}


PLANNED = {1: Planned(1, "storm", "ticks", [T0, T0 + 10]), 2: Planned(2, "storm", "ticks", [T0 + 5, T0 + 15])}
OUTBOX = [
    row(1, 1, 0, "a", T0 + 1),
    row(2, 1, 0, "b", T0 + 1),
    row(3, 1, 1, "a", T0 + 11),
    row(4, 1, 1, "b", T0 + 11),
    row(5, 1, 1, "a", T0 + 12),
    row(6, 1, 1, "b", T0 + 12),  # tick 1 of case 1 fired a second time
    row(7, 2, 0, "a", T0 + 9),
    row(8, 2, 0, "b", T0 + 9),  # case 2's tick 0 four seconds late
    row(9, 99, 0, "a", T0),  # not a planned case: ignored
]  # case 2's tick 1 never fired


def test_timer_index_reads_the_mark_in_the_body():
    assert timer_index("... the end of chaos-tick-12\n") == 12
    assert timer_index("... the end of chaos-escalation\n") == 0
    assert timer_index("... the end of chaos-noise\n") is None
    assert timer_index("no mark") is None


def test_lost_and_doubled_timers_and_their_lateness():
    result = firings(PLANNED, OUTBOX, timer_fired=[])
    assert (result["lost"], result["twice"]) == (1, 1)
    by = {(t["instance_id"], t["index"]): t for t in result["timers"]}
    assert by[(2, 0)]["lateness"] == 4 and by[(1, 1)]["firings"] == 2 and by[(2, 1)]["fired_at"] is None


def test_a_timer_fired_event_beyond_the_fired_timers_counts_as_doubled():
    events = [{"instance_id": 2, "at": T0, "timers": ["tick"]}] * 2 + [
        {"instance_id": 2, "at": T0, "timers": []}
    ]
    result = firings({2: PLANNED[2]}, OUTBOX, events)
    assert result["twice"] == 1  # two firings recorded, one timer fired


def test_lost_duplicate_and_renamed_e_mails():
    received = [got(i, T0 + 30) for i in (1, 2, 3, 4, 5, 7, 8)] + [
        got(1, T0 + 31),
        got(1, T0 + 32),
        got(42, T0),
    ]
    result = mail(PLANNED, OUTBOX, received)
    assert result["queued"] == 8 and result["lost"] == 1  # row 6 never arrived
    assert result["duplicates"] == 2  # row 1 arrived three times
    assert result["duplicates_new_message_id"] == 1  # tick 1 to "a" under m3 and m5
    assert result["strangers"] == 1


def _run(**overrides):
    run = {
        "params": {"interval": 2.0, "kills": 100, "workers": 3, "timers": 4, "emails": 8},
        "planned": [
            *list(PLANNED.values()),
            Planned(3, "hang", "escalation", [T0]),
            Planned(4, "poison", "ticks", [T0]),
        ],
        "records": {
            "outbox": [
                *OUTBOX,
                row(10, 3, 0, "c", T0 + 3, body="... chaos-escalation"),
                row(11, 4, 0, "a", T0 + 1),
            ],
            "timer_fired": [],
        },
        "received": [got(i, T0 + 30) for i in range(1, 12)],
        "pool": {"kills": [T0] * 150, "crashes": [], "stop_seconds": [0.5], "stop_forced": 0},
        "terminated": 10,
        "web_load": {"requests": 10, "errors": 0, "unanswered": 0},
        "hostile": [{"status": 400}, {"status": 422}],
        "redirects": [{"off_site": False}],
        "loads": {1: 200, 2: 200},
        "hung_connections": 3,
        "poison_summary": "",
    }
    run.update(overrides)
    return {m.name: m for m in evaluate(run)}


def test_targets_pass_and_fail_on_the_figures():
    m = _run()
    assert m["timers lost (never fired)"].passed is False
    assert m["duplicate e-mails"].passed is True  # none, 1 allowed for 150 kills
    assert m["escalation delay while the relay hangs (max)"].passed is True  # 3 s <= 2 x 2 s
    assert m["good cases' timers late or lost beside the poison cases"].passed is True
    assert m["hostile inputs answered 500 (or not at all)"].passed is True
    assert m["web requests answered 500 while connections were killed"].passed is True
    late = _run(
        records={"outbox": [row(10, 3, 0, "c", T0 + 4.5, body="chaos-escalation")], "timer_fired": []}
    )
    assert late["escalation delay while the relay hangs (max)"].passed is False
    bad = _run(
        hostile=[{"status": 500}, {"status": 0}, {"status": 404}],
        loads={1: 200, 2: 500},
        redirects=[{"off_site": True}],
        web_load={"requests": 9, "errors": 1, "unanswered": 0},
        pool={
            "kills": [T0] * 99,
            "crashes": [{"exit_status": 3, "phase": "poison"}],
            "stop_seconds": [],
            "stop_forced": 0,
        },
    )
    assert bad["hostile inputs answered 500 (or not at all)"].value == 2
    assert bad["cases made unloadable (GET /instances/{id} not 200)"].value == 1
    for name in (
        "worker kills (SIGKILL, each restarted)",
        "sign-in redirects off this site",
        "workers that died on their own (no connection killed)",
        "cases made unloadable (GET /instances/{id} not 200)",
        "web requests answered 500 while connections were killed",
    ):
        assert bad[name].passed is False, name


def test_each_duplicate_is_set_beside_the_kills_and_killed_connections_around_it():
    run = {
        "pool": {"kills": [T0 + 29, T0 + 100]},
        "terminations": [(T0 + 31, "chaos_x-w1-3"), (T0 + 50, "chaos_x-web")],
    }
    [d] = duplicate_causes(
        run, [{"id": 1, "message_id": "<m1@reviewflow>", "attempts": 1, "received_at": [T0 + 30, T0 + 70]}]
    )
    assert (d["kills_near"], d["connections_killed_near"]) == (1, ["w1-3"])
    assert d["kill_offsets_ms"] == [-1000.0]  # the kill came a second before the sink's 250


def test_a_duplicate_whose_sender_could_have_been_killed_between_the_250_and_its_record_is_told_apart():
    """With a kill every second or so, nearly every duplicate has a kill within 3 s: what can have cut a send
    off is a kill in the moments after the relay took the message (its record comes within milliseconds)."""
    run = {"pool": {"kills": [T0 + 30.002, T0 + 61]}, "terminations": []}
    sent = [
        {"id": 1, "message_id": "<m1@reviewflow>", "attempts": 1, "received_at": [T0 + 30, T0 + 70]},
        {"id": 2, "message_id": "<m2@reviewflow>", "attempts": 1, "received_at": [T0 + 60, T0 + 90]},
    ]
    first, second = duplicate_causes(run, sent)
    assert (first["killed_before_its_record"], second["killed_before_its_record"]) == (True, False)
    assert second["kills_near"] == 1  # a kill a second after the 250 came too late to matter
    summary = _run(
        received=[got(i, T0 + 30) for i in range(1, 12)] + [got(3, T0 + 31)],
        pool={"kills": [T0 + 30.003] * 150, "crashes": [], "stop_seconds": [0.5], "stop_forced": 0},
    )["duplicate e-mails"].detail
    assert summary.startswith("1 with a worker killed within 50 ms after the relay took it, 1 within 3 s")


def test_the_record_lag_is_measured_from_the_sink_s_250_on_e_mails_received_once():
    outbox = [row(i, 1, 0, "a", T0) | {"sent_at": T0 + 30 + i / 1000} for i in range(1, 5)]
    received = [got(i, T0 + 30) for i in range(1, 5)] + [got(4, T0 + 31)]  # m4 came twice: left out
    lag = mail(PLANNED, outbox, received)["record_lag_ms"]
    assert lag["count"] == 3 and round(lag["p50"]) == 2 and round(lag["max"]) == 3


def test_a_good_case_in_the_incident_state_misses_the_target():
    records = {
        "outbox": OUTBOX,
        "timer_fired": [],
        "instances": [
            {"id": 1, "status": "error", "error": "OperationalError: terminating connection"},
            {"id": 2, "status": "running", "error": None},
        ],
    }
    m = _run(records=records)["good cases put in the incident state"]
    assert (m.value, m.passed) == (1, False) and "terminating connection" in m.detail


def test_kills_made_after_the_storm_are_counted_apart():
    m = _run(
        storm_end=T0 + 1,
        pool={"kills": [T0] * 100 + [T0 + 5] * 12, "crashes": [], "stop_seconds": [], "stop_forced": 0},
    )
    kills = m["worker kills (SIGKILL, each restarted)"]
    assert kills.passed is True and kills.value == 112
    assert "12 after the storm" in kills.detail
    assert "after the storm" not in _run()["worker kills (SIGKILL, each restarted)"].detail


def test_the_last_lines_name_each_missed_target_with_its_figures():
    """CI keeps only the tail of a run's output: the targets missed are named there, with their figures."""
    measures = list(_run(received=[got(i, T0 + 30) for i in range(1, 12)] + [got(3, T0 + 31)] * 3).values())
    lines = missed(measures).splitlines()
    assert lines == [
        "missed: timers lost (never fired) 1 (target 0; hang: 0, storm: 1, poison: 0)",
        "missed: timers fired twice 1 (target 0)",
        "missed: duplicate e-mails 3 (target <= 1 (1 per 100 kills); 0 with a worker killed within 50 ms "
        "after the relay took it, 0 within 3 s of a worker kill, 0 of a killed connection only, "
        "1 near neither)",
        "missed: duplicates under a new Message-ID 2 (target 0)",
    ]
    assert missed([m for m in measures if m.passed is not False]) == ""
