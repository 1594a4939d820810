"""The chaos run itself: set up, three phases, and gathering what happened.

1. **hang**: the SMTP port is taken over by a relay that accepts and never answers, while one e-mail a
   second is queued to keep every worker's outbox busy; escalation deadlines fall due meanwhile, and
   how late each fires is measured (workers are not killed in this phase, so the figure is the hang's).
2. **storm**: the good cases' timers fall due on the real clock, each queueing two e-mails, while
   workers are killed at random with SIGKILL (each restarted), their and the web server's database
   connections are terminated, the web server serves reads, and the sink is down for a while.
   Then the run waits for the outbox to drain.
3. **poison**: cases that once stopped every sweep (data nested 500 deep, a script raising SystemExit,
   a step name too long for its column) fall due first, among fresh good cases whose timers must fire
   on time; meanwhile hostile requests go to the web server.

Finally every case the database holds is fetched through the API, the workers are stopped with
SIGTERM, and the database and the sink's records are read back for :mod:`tests.chaos.report`.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

from tests.chaos import hostile
from tests.chaos.postgres import Scratch, read_records
from tests.chaos.report import Planned
from tests.chaos.sink import SinkProcess, free_port
from tests.chaos.web import Client, Server, cli
from tests.chaos.workers import WorkerPool, environment

ROOT = Path(__file__).resolve().parents[2]
CHAOS = Path(__file__).resolve().parent
API_USER = "chaos-api"
READER = "chaos-reader"
# how long killing may go on after the storm's last timer was due, if the kills asked for are not yet made
KILLING_PAST_THE_STORM = 120.0


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()


def nested(depth: int) -> dict:
    value: dict = {"leaf": True}
    for _ in range(depth - 1):
        value = {"next": value}
    return value


def sleep_until(instant: float) -> None:
    while (left := instant - time.time()) > 0:
        time.sleep(min(left, 0.5))


class Chaos:
    def __init__(self, params: dict, scratch: Scratch, logs: Path, say=print):
        self.p = params
        self.scratch = scratch
        self.logs = logs
        self.say = say
        self.rng = random.Random(params["seed"])
        # ``reviewflow`` as installed, run from this tree (so a checkout of any commit measures its own code)
        self.reviewflow = [sys.executable, "-m", "web.cli"]
        self.smtp = SinkProcess()
        self.planned: list[Planned] = []
        self.terminated = 0
        self.storm_end: float | None = None
        self.terminations: list[tuple[float, str]] = []  # (when, application name of the connection)
        self.web_load = {"requests": 0, "errors": 0, "unanswered": 0, "statuses": {}}
        self.poison: dict = {}
        self.timeline: list[tuple[float, str]] = []
        self.server: Server | None = None
        self.pool: WorkerPool | None = None
        self.api: Client | None = None
        self.started = time.time()

    # --- plumbing -------------------------------------------------------------------------------
    def mark(self, what: str) -> None:
        self.timeline.append((time.time(), what))
        self.say(f"[{time.time() - self.started:6.1f} s] {what}")

    def env(self, role: str) -> dict:
        return environment(
            self.base_env, REVIEWFLOW_DATABASE_URL=self.scratch.url(role), PYTHONPATH=str(ROOT)
        )

    def worker_env(self, index: int, start: int) -> tuple[dict, str]:
        role = f"w{index}-{start}"
        return self.env(role), self.scratch.app_name(role)

    def start_case(self, process_id: str, data: dict) -> tuple[int, dict]:
        answer = self.api.api("POST", f"/processes/{process_id}/instances", {"data": data})
        body = answer.json() if answer.status else None
        return answer.status, (
            body
            if isinstance(body, dict)
            else {"raw": answer.body[:300].decode("utf-8", "replace"), "error": answer.error}
        )

    def start_planned(self, process_id: str, phase: str, kind: str, due: list[float], data: dict) -> None:
        status, body = self.start_case(process_id, data)
        if status != 201:
            raise RuntimeError(f"starting {process_id} answered {status}: {body}")
        self.planned.append(Planned(body["id"], phase, kind, due))

    # --- setup ----------------------------------------------------------------------------------
    def setup(self) -> None:
        self.smtp.up()
        self.base_env = {
            "REVIEWFLOW_SMTP_URL": self.smtp.url,
            "REVIEWFLOW_SECRET_KEY": secrets.token_hex(32),
            "REVIEWFLOW_INSECURE_COOKIES": "1",
            "REVIEWFLOW_MAIL_FROM": "reviewflow@example.org",
        }
        env = self.env("cli")
        cli(self.reviewflow, env, "deploy")
        cli(self.reviewflow, env, "deploy", str(CHAOS / "processes"))
        for bpmn in sorted((CHAOS / "poison").glob("*.bpmn")):
            try:
                cli(self.reviewflow, env, "deploy", str(bpmn))
                self.poison[bpmn.stem] = {"deploy": "deployed"}
            except RuntimeError as exc:
                self.poison[bpmn.stem] = {"deploy": "refused", "why": str(exc)[-400:]}
        cli(
            self.reviewflow,
            env,
            "user",
            "add",
            API_USER,
            "--role",
            "Chaos staff",
            "--role",
            "manager",
            "--role",
            "admin",
            "--role",
            "process_owner",
        )
        token = cli(self.reviewflow, env, "token", "create", API_USER).strip().splitlines()[-1]
        self.reader_password = secrets.token_urlsafe(18)
        cli(
            self.reviewflow,
            env,
            "user",
            "add",
            READER,
            "--role",
            "Chaos staff",
            "--password-stdin",
            stdin=self.reader_password + "\n",
        )
        self.mark("deployed; users and token made")
        self.server = Server(self.reviewflow, self.env("web"), free_port(), self.logs / "serve.log")
        self.server.start()
        self.api = Client(self.server.port, token)
        status, body = self.start_case("chaos_plain", {"label": "target of hostile requests"})
        if status != 201:
            raise RuntimeError(f"the web server cannot start a case ({status}): {body}")
        self.plain_case = body["id"]
        tasks = (self.api.api("GET", "/tasks").json() or {}).get("tasks", [])
        self.plain_task = next((t["id"] for t in tasks if t.get("instance_id") == self.plain_case), "none")
        command = [*self.reviewflow, "worker", "--interval", str(self.p["interval"])]
        self.pool = WorkerPool(
            command,
            self.worker_env,
            self.p["workers"],
            self.logs,
            connected=lambda: {name for _, name in self.scratch.backends("w")},
        )
        self.pool.start()
        deadline = time.time() + 60
        while time.time() < deadline and not all(s.ready_at for s in self.pool.slots):
            time.sleep(0.2)
        self.mark(f"web server on port {self.server.port}; {self.p['workers']} workers up")

    # --- phase 1: a relay that hangs -------------------------------------------------------------
    def hang_phase(self) -> None:
        self.pool.phase = "hang"
        length, n = self.p["hang"], self.p["escalations"]
        begin = time.time() + 3
        step = (length - 10) / max(1, n - 1)
        for k in range(n):
            due = begin + 6 + k * step
            self.start_planned("chaos_escalation", "hang", "escalation", [due], {"escalate_at": iso(due)})
        sleep_until(begin)
        self.smtp.hang()
        self.mark(f"relay hangs for {length} s; {n} escalations fall due meanwhile")
        while time.time() < begin + length:
            self.start_planned("chaos_mail", "hang", "noise", [], {"label": "keeps the outbox busy"})
            time.sleep(1.0)
        self.smtp.up()
        self.mark("sink back")

    # --- phase 2: the storm ----------------------------------------------------------------------
    def storm_phase(self) -> None:
        self.pool.phase = "storm"
        cases, length = self.p["cases"], self.p["duration"]
        ticks = self.p["ticks"]
        begin = time.time() + 2 + cases * 0.1
        span = length - 15
        for c in range(cases):
            due = [begin + 10 + span * (k + c / cases) / ticks for k in range(ticks)]
            self.start_planned("chaos_ticks", "storm", "ticks", due, {"ticks": [iso(d) for d in due]})
        storm_ids = [p.instance_id for p in self.planned if p.phase == "storm"]
        sleep_until(begin)
        self.mark(
            f"storm: {cases * ticks} timers over {span:.0f} s; workers killed after "
            f"{self.p['min_life']}-{self.p['max_life']} s each; connections terminated"
        )
        end = begin + length
        self.storm_end = end
        stop = threading.Event()
        threads = [
            threading.Thread(target=self._killer, args=(begin + 3, end - 5, stop), daemon=True),
            threading.Thread(target=self._terminator, args=(end - 5, stop), daemon=True),
            threading.Thread(target=self._reader, args=(storm_ids, end - 5, stop), daemon=True),
        ]
        for t in threads:
            t.start()
        down_at, up_at = begin + 0.15 * length, begin + 0.35 * length
        sleep_until(down_at)
        self.smtp.down()
        self.mark(f"sink down for {up_at - down_at:.0f} s")
        sleep_until(up_at)
        self.smtp.up()
        self.mark("sink back")
        sleep_until(end)
        threads[0].join(timeout=KILLING_PAST_THE_STORM + 5)  # the killer ends once its kills are done
        stop.set()
        for t in threads:
            t.join(timeout=30)
        self.mark(
            f"storm over: {len(self.pool.record.kills)} kills, {self.terminated} connections terminated"
        )

    def _killer(self, begin: float, end: float, stop: threading.Event) -> None:
        """Workers die at random through the storm; if the machine was too slow to reach the number of
        kills asked for (a restarted worker imports for seconds on a busy 2-core machine), killing goes on
        while the late timers and the outbox drain, at most ``KILLING_PAST_THE_STORM`` seconds, and the
        report says how many kills came after the storm."""
        sleep_until(begin)
        self.pool.arm(self.rng, self.p["min_life"], self.p["max_life"])
        while not stop.is_set():
            now = time.time()
            enough = len(self.pool.record.kills) >= self.p["kills"]
            if now >= end and (enough or now >= end + KILLING_PAST_THE_STORM):
                break
            self.pool.kill_due()
            time.sleep(0.05)
        self.pool.disarm()

    def _terminator(self, end: float, stop: threading.Event) -> None:
        n = 0
        while time.time() < end and not stop.is_set():
            time.sleep(self.p["terminate_every"])
            n += 1
            try:
                names = self.scratch.terminate(self.rng, all_at_once=(n % 10 == 0))
                self.terminated += len(names)
                self.terminations += [(time.time(), name) for name in names]
            except Exception as exc:  # the harness's own connection must not end the run
                self.say(f"terminate: {exc}")

    def _reader(self, ids: list[int], end: float, stop: threading.Event) -> None:
        client = Client(self.server.port, self.api.token, timeout=30)
        paths = ["/tasks", "/instances?limit=50"]
        while time.time() < end and not stop.is_set():
            path = self.rng.choice(paths + [f"/instances/{self.rng.choice(ids)}"] * 2)
            answer = client.api("GET", path)
            self.web_load["requests"] += 1
            self.web_load["statuses"][str(answer.status)] = (
                self.web_load["statuses"].get(str(answer.status), 0) + 1
            )
            if answer.status == 500:  # 503 is the promised answer to a lost connection
                self.web_load["errors"] += 1
            elif answer.status == 0:
                self.web_load["unanswered"] += 1
            time.sleep(0.2)

    # --- draining --------------------------------------------------------------------------------
    def outstanding(self, phases: tuple[str, ...]) -> tuple[int, int]:
        """(timers not yet fired, e-mails not yet received) of the planned cases in ``phases``."""
        from tests.chaos.report import firings

        planned = {p.instance_id: p for p in self.planned if p.phase in phases}
        records = read_records(self.scratch)
        stuck = {i["id"] for i in records["instances"] if i["status"] in ("error", "cancelled", "suspended")}
        planned = {k: v for k, v in planned.items() if k not in stuck}  # their timers will not come
        received = {r.message_id for r in self.smtp.received}
        waiting = [
            r
            for r in records["outbox"]
            if r["instance_id"] in planned and r["message_id"] not in received and r["status"] != "dead"
        ]  # a dead message will not come: no use waiting for it
        return firings(planned, records["outbox"], records["timer_fired"])["lost"], len(waiting)

    def drain(self, phases: tuple[str, ...], limit: float) -> None:
        deadline = time.time() + limit
        while True:
            timers, emails = self.outstanding(phases)
            if (timers == 0 and emails == 0) or time.time() >= deadline:
                break
            time.sleep(2)
        self.mark(f"drained {'/'.join(phases)}: {timers} timers and {emails} e-mails still outstanding")

    # --- phase 3: poison ---------------------------------------------------------------------------
    def poison_phase(self) -> None:
        self.pool.phase = "poison"
        cases = self.p["poison_cases"]
        begin = time.time() + 3
        first = begin + 1
        status, body = self.start_case("chaos_ticks", {"ticks": [iso(first)], "payload": nested(500)})
        self.poison["nested_500"] = {
            "start": status,
            "instance_id": body.get("id"),
            "answer": {k: body[k] for k in ("error",) if k in body},
        }
        for name in ("chaos_poison_exit", "chaos_poison_long_name"):
            if self.poison.get(name, {}).get("deploy") == "deployed":
                status, body = self.start_case(name, {"fire_at": iso(first)})
                self.poison[name].update(start=status, instance_id=body.get("id"))
        for c in range(cases):
            due = [begin + 5 + 10 * c / cases, begin + 20 + 10 * c / cases]
            self.start_planned("chaos_ticks", "poison", "ticks", due, {"ticks": [iso(d) for d in due]})
        self.mark(f"poison: {', '.join(self.poison)} among {cases} good cases")
        self.hostile_answers = hostile.run_api(self.api, hostile.api_probes(self.plain_case, self.plain_task))
        signin, self.redirects = hostile.sign_in_probes(self.server.port, READER, self.reader_password)
        self.hostile_answers += signin
        self.mark(f"{len(self.hostile_answers)} hostile requests sent")
        sleep_until(begin + 32)
        self.drain(("poison",), 20)

    # --- the end -----------------------------------------------------------------------------------
    def finish(self) -> dict:
        with self.scratch.reading() as conn:
            ids = [r[0] for r in conn.execute("select id from instance order by id")]
        loads = {}
        for iid in ids:
            loads[iid] = self.api.api("GET", f"/instances/{iid}").status
        for info in self.poison.values():
            if info.get("instance_id"):
                info["status_after"] = next(
                    (r for r in self._instances() if r["id"] == info["instance_id"]), {}
                )
        self.pool.stop()
        self.mark("workers stopped with SIGTERM")
        records = read_records(self.scratch)
        return {
            "planned": self.planned,
            "records": records,
            "received": [asdict(r) for r in self.smtp.received],
            "pool": asdict(self.pool.record),
            "storm_end": self.storm_end,
            "terminated": self.terminated,
            "terminations": self.terminations,
            "web_load": self.web_load,
            "hostile": self.hostile_answers,
            "redirects": self.redirects,
            "loads": loads,
            "hung_connections": self.smtp.hung_connections,
            "poison": self.poison,
            "poison_summary": "; ".join(f"{k}: {_poison_line(v)}" for k, v in self.poison.items()),
            "timeline": [(round(t - self.started, 1), w) for t, w in self.timeline],
        }

    def _instances(self) -> list[dict]:
        with self.scratch.reading() as conn:
            return [
                {"id": r[0], "status": r[1], "error": (r[2] or "")[:300]}
                for r in conn.execute("select id, status, error from instance")
            ]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.stop(grace=5)
        if self.server is not None:
            self.server.stop()
        self.smtp.close()


def _poison_line(info: dict) -> str:
    if info.get("deploy") == "refused":
        return "refused at deploy"
    if "start" in info and info["start"] != 201:
        return f"refused at start ({info['start']})"
    after = info.get("status_after") or {}
    return f"started, now {after.get('status', '?')}"
