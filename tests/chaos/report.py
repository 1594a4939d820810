"""From what the run planned and what the product recorded, the figures issue 8 asks for.

Pure functions over plain data (no database, no processes), so the arithmetic is tested on its own
(tests/chaos/test_report.py). The evidence for each timer is the e-mail its firing queued: every
chaos timer queues one outbox row per recipient in the same transaction that fires it, the body names
the timer (``chaos-tick-3``, ``chaos-escalation``), and the row's ``created_at`` is the instant of the
transaction (the real clock). A timer with no row has not fired; two firings leave two rows for the
same recipient. An e-mail is lost when its outbox row's Message-ID never reached the sink, and a
duplicate when the sink received that Message-ID more than once.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass

MARK = re.compile(r"chaos-(tick-(\d+)|escalation|noise)")


@dataclass
class Planned:
    """A case the run started and expects to behave: which phase, which kind, when each timer is due."""

    instance_id: int
    phase: str  # hang, storm, poison
    kind: str  # ticks, escalation, noise
    due: list[float]  # epoch seconds, one per timer (empty for noise)


@dataclass
class Measure:
    name: str
    value: object
    target: str
    passed: bool | None  # None: shown for information, not a target
    detail: str = ""

    @property
    def result(self) -> str:
        return "info" if self.passed is None else ("PASS" if self.passed else "FAIL")


def timer_index(body: str) -> int | None:
    """Which timer of its case an outbox row reports (0 for an escalation), or None for other mail."""
    m = MARK.search(body or "")
    if not m:
        return None
    if m.group(2) is not None:
        return int(m.group(2))
    return 0 if m.group(1) == "escalation" else None


def firings(planned: dict[int, Planned], outbox: list[dict], timer_fired: list[dict]) -> dict:
    """Per planned timer: how many times it fired and when first; with lost and doubled counts."""
    rows = defaultdict(list)
    for row in outbox:
        p = planned.get(row["instance_id"])
        if p is None or p.kind == "noise":
            continue
        index = timer_index(row["body"])
        if index is not None:
            rows[(p.instance_id, index)].append(row)
    audit = Counter(e["instance_id"] for e in timer_fired if e.get("timers"))
    timers = []
    twice_by_case = {}
    for p in planned.values():
        if p.kind == "noise":
            continue
        extra_rows = 0
        fired_indices = 0
        for index, due in enumerate(p.due):
            found = rows.get((p.instance_id, index), [])
            per_recipient = Counter(r["recipient"] for r in found)
            count = max(per_recipient.values(), default=0)
            fired_at = min((r["created_at"] for r in found), default=None)
            timers.append(
                {
                    "instance_id": p.instance_id,
                    "phase": p.phase,
                    "kind": p.kind,
                    "index": index,
                    "due": due,
                    "fired_at": fired_at,
                    "firings": count,
                    "lateness": None if fired_at is None else fired_at - due,
                }
            )
            extra_rows += max(0, count - 1)
            fired_indices += 1 if count else 0
        twice_by_case[p.instance_id] = max(extra_rows, audit.get(p.instance_id, 0) - fired_indices)
    return {
        "timers": timers,
        "lost": sum(1 for t in timers if t["firings"] == 0),
        "twice": sum(twice_by_case.values()),
    }


def mail(planned: dict[int, Planned], outbox: list[dict], received: list[dict]) -> dict:
    """Outbox rows of the planned cases against what the sink received, by Message-ID."""
    got = Counter(r["message_id"] for r in received)
    first_at = {}
    for r in received:
        first_at.setdefault(r["message_id"], r["at"])
    ours = [r for r in outbox if r["instance_id"] in planned]
    lost = [r for r in ours if got[r["message_id"]] == 0]
    duplicates = sum(max(0, got[r["message_id"]] - 1) for r in ours)
    # the same notice (case, timer, recipient) arriving under two Message-IDs
    logical = Counter(
        (r["instance_id"], timer_index(r["body"]), r["recipient"])
        for r in ours
        if got[r["message_id"]] and timer_index(r["body"]) is not None
    )
    renamed = sum(n - 1 for n in logical.values() if n > 1)
    known = {r["message_id"] for r in outbox}
    delays = [first_at[r["message_id"]] - r["created_at"] for r in ours if r["message_id"] in first_at]
    # from the sink's 250 to the worker's record of it: the part of a duplicate's window the worker owns
    lags = sorted(
        1000 * (r["sent_at"] - first_at[r["message_id"]])
        for r in ours
        if r["sent_at"] is not None and got[r["message_id"]] == 1
    )
    by_phase = defaultdict(lambda: {"queued": 0, "lost": 0})
    for r in ours:
        by_phase[planned[r["instance_id"]].phase]["queued"] += 1
    for r in lost:
        by_phase[planned[r["instance_id"]].phase]["lost"] += 1
    duplicated = [
        {
            "id": r["id"],
            "message_id": r["message_id"],
            "attempts": r["attempts"],
            "received_at": sorted(x["at"] for x in received if x["message_id"] == r["message_id"]),
        }
        for r in ours
        if got[r["message_id"]] > 1
    ]
    return {
        "queued": len(ours),
        "received": sum(got[r["message_id"]] for r in ours),
        "lost": len(lost),
        "duplicated": duplicated,
        "dead": sum(1 for r in ours if r["status"] == "dead"),
        "duplicates": duplicates,
        "duplicates_new_message_id": renamed,
        "strangers": sum(n for mid, n in got.items() if mid not in known),
        "max_delivery_seconds": max(delays, default=0.0),
        "by_phase": dict(by_phase),
        "record_lag_ms": {
            "count": len(lags),
            "p50": _quantile(lags, 0.5),
            "p99": _quantile(lags, 0.99),
            "max": lags[-1] if lags else 0.0,
        },
        "lost_examples": [
            {k: r[k] for k in ("id", "instance_id", "status", "attempts", "last_error")} for r in lost[:5]
        ],
    }


def _late(timers: list[dict], limit: float) -> int:
    return sum(1 for t in timers if t["lateness"] is None or t["lateness"] > limit)


def _max_lateness(timers: list[dict]) -> float:
    if any(t["lateness"] is None for t in timers):
        return math.inf
    return max((t["lateness"] for t in timers), default=0.0)


def _seconds(value: float) -> str:
    return "not fired" if value == math.inf else f"{value:.1f} s"


def evaluate(run: dict) -> list[Measure]:
    """Every figure of the run against its target; ``run`` is what run.py gathered (see there)."""
    params = run["params"]
    interval = params["interval"]
    window = 2 * interval
    planned = {p.instance_id: p for p in run["planned"]}
    fired = firings(planned, run["records"]["outbox"], run["records"]["timer_fired"])
    sent = mail(planned, run["records"]["outbox"], run["received"])
    timers = fired["timers"]

    def phase(name, kind=None):
        return [t for t in timers if t["phase"] == name and (kind is None or t["kind"] == kind)]

    kills = len(run["pool"]["kills"])
    allowed_duplicates = kills // 100
    hostile = run["hostile"]
    failed_hostile = [h for h in hostile if h["status"] == 500 or h["status"] == 0]
    off_site = [r for r in run["redirects"] if r["off_site"]]
    unloadable = [i for i, status in run["loads"].items() if status != 200]
    escalations = phase("hang", "escalation")
    poison_good = phase("poison")
    storm = phase("storm")
    # in the storm a worker may exit because its connection was terminated (say during the start-up schema
    # check): restarted like any other, and shown apart from deaths no one caused
    storm_crashes = [c for c in run["pool"]["crashes"] if c.get("phase") == "storm" and _connection_lost(c)]
    crashes = [c for c in run["pool"]["crashes"] if c not in storm_crashes]
    incidents = [
        {
            "instance_id": i["id"],
            "phase": planned[i["id"]].phase,
            "error": " ".join((i.get("error") or "").split())[:300],
        }
        for i in run["records"].get("instances", [])
        if i["id"] in planned and i["status"] == "error"
    ]
    sent["duplicate_causes"] = duplicate_causes(run, sent["duplicated"])
    web = run["web_load"]
    start_median = _median(run["pool"].get("start_seconds", []))
    storm_end = run.get("storm_end")
    late_kills = sum(1 for k in run["pool"]["kills"] if storm_end is not None and k > storm_end)
    m = [
        Measure(
            "worker kills (SIGKILL, each restarted)",
            kills,
            f">= {params['kills']}",
            kills >= params["kills"],
            f"{params['workers']} workers; a worker took {start_median:.1f} s (median) to start"
            + (f"; {late_kills} after the storm, while its timers and e-mails drained" if late_kills else ""),
        ),
        Measure("timers due (all phases)", len(timers), f"asked >= {params['timers']}", None),
        Measure("e-mails queued by the chaos cases", sent["queued"], f"asked >= {params['emails']}", None),
        Measure("database connections terminated", run["terminated"], "info", None),
        Measure(
            "timers lost (never fired)",
            fired["lost"],
            "0",
            fired["lost"] == 0,
            ", ".join(
                f"{k}: {sum(1 for t in timers if t['phase'] == k and not t['firings'])}"
                for k in ("hang", "storm", "poison")
            ),
        ),
        Measure("timers fired twice", fired["twice"], "0", fired["twice"] == 0),
        Measure(
            "e-mails lost (queued, never received)",
            sent["lost"],
            "0",
            sent["lost"] == 0,
            ", ".join(f"{k}: {v['lost']}/{v['queued']}" for k, v in sorted(sent["by_phase"].items())),
        ),
        Measure(
            "duplicate e-mails",
            sent["duplicates"],
            f"<= {allowed_duplicates} (1 per 100 kills)",
            sent["duplicates"] <= allowed_duplicates,
            _causes(sent["duplicate_causes"]),
        ),
        Measure(
            "duplicates under a new Message-ID",
            sent["duplicates_new_message_id"],
            "0",
            sent["duplicates_new_message_id"] == 0,
        ),
        Measure(
            "escalation delay while the relay hangs (max)",
            _seconds(_max_lateness(escalations)),
            f"<= {window:.1f} s (2 sweeps)",
            bool(escalations) and _late(escalations, window) == 0,
            f"{len(escalations)} escalations, {run['hung_connections']} connections held by the relay",
        ),
        Measure(
            "good cases' timers late or lost beside the poison cases",
            _late(poison_good, window),
            f"0 (late: > {window:.1f} s)",
            bool(poison_good) and _late(poison_good, window) == 0,
            f"max lateness {_seconds(_max_lateness(poison_good))}; poison: {run['poison_summary']}",
        ),
        Measure(
            "good cases put in the incident state",
            len(incidents),
            "0",
            not incidents,
            "; ".join(sorted({f"{i['phase']}: {i['error'][:90]}" for i in incidents}))[:400],
        ),
        Measure(
            "cases made unloadable (GET /instances/{id} not 200)",
            len(unloadable),
            "0",
            not unloadable,
            f"of {len(run['loads'])} cases" + (f"; e.g. {unloadable[:5]}" if unloadable else ""),
        ),
        Measure(
            "hostile inputs answered 500 (or not at all)",
            len(failed_hostile),
            "0",
            not failed_hostile,
            f"of {len(hostile)} requests",
        ),
        Measure(
            "web requests answered 500 while connections were killed",
            web["errors"],
            "0 (503 or a retry)",
            web["errors"] == 0,
            f"of {web['requests']} requests; {web.get('statuses', {}).get('503', 0)} answered 503; "
            f"{web['unanswered']} unanswered",
        ),
        Measure(
            "sign-in redirects off this site",
            len(off_site),
            "0",
            not off_site,
            f"of {len(run['redirects'])} hostile next= values",
        ),
        Measure(
            "workers that died on their own (no connection killed)",
            len(crashes),
            "0",
            not crashes,
            ", ".join(sorted({f"exit {c['exit_status']} in {c.get('phase', '?')}" for c in crashes})),
        ),
        Measure(
            "workers that exited when their connection was killed",
            len(storm_crashes),
            "info",
            None,
            "at start-up (schema check) or in a pass; each was started again",
        ),
        Measure(
            "storm: timer lateness (max)",
            _seconds(_max_lateness(storm)),
            "info",
            None,
            f"p95 {_p95([t['lateness'] for t in storm]):.1f} s" if storm and fired["lost"] == 0 else "",
        ),
        Measure(
            "e-mail delivery after queueing (max)", f"{sent['max_delivery_seconds']:.0f} s", "info", None
        ),
        Measure(
            "a sent e-mail recorded after the sink's 250 (p99)",
            f"{sent['record_lag_ms']['p99']:.1f} ms",
            "info",
            None,
            f"p50 {sent['record_lag_ms']['p50']:.1f} ms, max {sent['record_lag_ms']['max']:.1f} ms "
            f"over {sent['record_lag_ms']['count']} e-mails",
        ),
        Measure(
            "worker start-up, to its database connection (median)",
            f"{_median(run['pool'].get('start_seconds', [])):.1f} s",
            "info",
            None,
            f"max {max(run['pool'].get('start_seconds', []), default=0):.1f} s over "
            f"{len(run['pool'].get('start_seconds', []))} starts",
        ),
        Measure(
            "worker exit after SIGTERM (max)",
            f"{max(run['pool']['stop_seconds'], default=0):.1f} s",
            "info",
            None,
            f"{run['pool']['stop_forced']} needed SIGKILL",
        ),
    ]
    run["derived"] = {
        "firings": {k: v for k, v in fired.items() if k != "timers"},
        "mail": sent,
        "late_timers": [t for t in timers if t["lateness"] is None or t["lateness"] > window][:50],
        "hostile_failures": failed_hostile,
        "off_site_redirects": off_site,
        "unloadable": unloadable[:50],
    }
    return m


# a sent message is recorded within milliseconds of the relay's 250 (p99 about 4 ms): a kill later than this
# after its first arrival came too late to have cut its record off
RECORD_WINDOW = 0.05


def duplicate_causes(run: dict, duplicated: list[dict], window: float = 3.0) -> list[dict]:
    """For each duplicated message: the worker kills and killed connections in the seconds around its
    first arrival, and whether a kill came in the moments after the relay took it, before its record
    (``killed_before_its_record``): with a kill every second or so, one within 3 s proves little."""
    kills = run["pool"].get("kills", [])
    terminations = run.get("terminations", [])
    out = []
    for d in duplicated:
        first = d["received_at"][0]
        near = [k for k in kills if first - window <= k <= first + window]
        out.append(
            {
                **d,
                "kills_near": len(near),
                "killed_before_its_record": any(0 <= k - first <= RECORD_WINDOW for k in near),
                "kill_offsets_ms": [round(1000 * (k - first), 1) for k in near],
                "connections_killed_near": sorted(
                    name.split("-", 1)[-1]
                    for t, name in terminations
                    if first - window <= t <= first + window
                ),
            }
        )
    return out


def _causes(causes: list[dict]) -> str:
    if not causes:
        return ""
    in_window = sum(1 for c in causes if c["killed_before_its_record"])
    near_kill = sum(1 for c in causes if c["kills_near"])
    near_conn = sum(1 for c in causes if c["connections_killed_near"] and not c["kills_near"])
    return (
        f"{in_window} with a worker killed within {RECORD_WINDOW * 1000:.0f} ms after the relay took it, "
        f"{near_kill} within 3 s of a worker kill, {near_conn} of a killed connection only, "
        f"{len(causes) - near_kill - near_conn} near neither"
    )


def _median(values: list) -> float:
    values = sorted(values)
    return values[len(values) // 2] if values else 0.0


def _connection_lost(crash: dict) -> bool:
    tail = crash.get("log_tail", "")
    return any(
        sign in tail
        for sign in (
            "OperationalError",
            "server closed the connection",
            "terminating connection",
            "AdminShutdown",
            "connection is closed",
        )
    )


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _p95(values: list) -> float:
    values = sorted(v for v in values if v is not None)
    if not values:
        return 0.0
    return values[min(len(values) - 1, math.ceil(0.95 * len(values)) - 1)]


def table(measures: list[Measure]) -> str:
    rows = [("measure", "value", "target", "result")] + [
        (m.name, str(m.value), m.target, m.result) for m in measures
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(c.ljust(w) for c, w in zip(rows[0], widths, strict=True)), line]
    for m, r in zip(measures, rows[1:], strict=True):
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
        if m.detail and m.passed is not True:
            out.append(" " * 4 + m.detail)
    return "\n".join(out)


def missed(measures: list[Measure]) -> str:
    """The targets missed, each with its figure, target and detail, on lines of their own: CI keeps only the
    tail of a run's output, and the table above may be cut off."""
    return "\n".join(
        f"missed: {m.name} {m.value} (target {m.target}" + (f"; {m.detail})" if m.detail else ")")
        for m in measures
        if m.passed is False
    )


def as_json(measures: list[Measure]) -> list[dict]:
    return [{**asdict(m), "result": m.result} for m in measures]
