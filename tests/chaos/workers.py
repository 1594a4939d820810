"""Real ``reviewflow worker`` processes, killed with SIGKILL at random and started again.

A supervisor thread restarts any worker that exits, as systemd or a container runtime would, and
records every exit the run did not cause itself (a worker that died on its own is a finding).
A worker counts as up once its database connection shows (each start connects under its own
application name): only such workers are killed, so that kills land in a worker's sweeps and
sends, not in its imports, however slow the machine is.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Slot:
    index: int
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    ready_at: float | None = None
    starts: int = 0
    killing: bool = False
    app_name: str = ""
    kill_at: float | None = None  # when this life of the worker ends (armed killing only)


@dataclass
class PoolRecord:
    kills: list[float] = field(default_factory=list)  # when each SIGKILL was sent
    kill_ages: list[float] = field(default_factory=list)  # seconds each killed worker had been up
    start_seconds: list[float] = field(default_factory=list)  # from spawn to its connection showing
    crashes: list[dict] = field(default_factory=list)  # exits the run did not cause
    stop_seconds: list[float] = field(default_factory=list)  # SIGTERM to exit, per worker at the end
    stop_forced: int = 0  # workers that ignored SIGTERM


class WorkerPool:
    def __init__(self, command: list[str], env_for, size: int, log_dir: Path, connected=None):
        self.command = command
        self.env_for = env_for  # (slot index, start number) -> (environment, application name)
        self.connected = connected  # () -> application names connected now
        self.slots = [Slot(i) for i in range(size)]
        self.log_dir = log_dir
        self.record = PoolRecord()
        self.phase = "setup"  # named in the record of any crash
        self._lifetime = None  # (rng, shortest, longest) while killing is armed
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, name="worker-supervisor", daemon=True)

    def _spawn(self, slot: Slot) -> None:
        with open(self.log_dir / f"worker-{slot.index}.log", "ab") as log:
            log.write(f"\n--- start {slot.starts + 1} at {time.time():.3f}\n".encode())
            log.flush()
            slot.starts += 1
            env, slot.app_name = self.env_for(slot.index, slot.starts)
            slot.proc = subprocess.Popen(
                self.command, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL
            )
        slot.started_at = time.time()
        slot.ready_at = None
        slot.kill_at = None  # a life is planned once this start's connection shows

    def start(self) -> None:
        with self._lock:
            for slot in self.slots:
                self._spawn(slot)
        self._supervisor.start()

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            names = set()
            if self.connected is not None and any(s.ready_at is None for s in self.slots):
                try:
                    names = self.connected()
                except Exception:  # a missed look is made up at the next
                    names = set()
            with self._lock:
                for slot in self.slots:
                    if slot.ready_at is None and (self.connected is None or slot.app_name in names):
                        slot.ready_at = time.time()
                        self.record.start_seconds.append(slot.ready_at - slot.started_at)
                        self._plan_death(slot)
                for slot in self.slots:
                    if slot.proc is None or slot.killing:
                        continue
                    rc = slot.proc.poll()
                    if rc is not None and not self._stopping.is_set():
                        tail = _tail(self.log_dir / f"worker-{slot.index}.log")
                        self.record.crashes.append(
                            {
                                "worker": slot.index,
                                "exit_status": rc,
                                "at": time.time(),
                                "phase": self.phase,
                                "log_tail": tail,
                            }
                        )
                        self._spawn(slot)
            time.sleep(0.2)

    def _plan_death(self, slot: Slot) -> None:
        if self._lifetime is not None and slot.ready_at is not None:
            rng, shortest, longest = self._lifetime
            slot.kill_at = max(slot.ready_at, time.time()) + rng.uniform(shortest, longest)
        else:
            slot.kill_at = None

    def arm(self, rng: random.Random, shortest: float, longest: float) -> None:
        """From now on each worker lives a random time (uniform, counted from its connection showing)
        and is then killed with SIGKILL, at whatever point of a sweep or a send it has reached."""
        with self._lock:
            self._lifetime = (rng, shortest, longest)
            for slot in self.slots:
                self._plan_death(slot)

    def disarm(self) -> None:
        with self._lock:
            self._lifetime = None
            for slot in self.slots:
                slot.kill_at = None

    def kill_due(self) -> int:
        """SIGKILL every worker whose life has run out, and start each again; returns how many."""
        killed = 0
        with self._lock:
            now = time.time()
            for slot in self.slots:
                if (
                    slot.kill_at is None
                    or slot.kill_at > now
                    or slot.proc is None
                    or slot.proc.poll() is not None
                ):
                    continue
                slot.killing = True
                slot.proc.send_signal(signal.SIGKILL)
                slot.proc.wait()
                self.record.kills.append(now)
                self.record.kill_ages.append(now - slot.ready_at)
                self._spawn(slot)
                slot.kill_at = None
                slot.killing = False
                killed += 1
        return killed

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM every worker and time how long each takes to exit; SIGKILL any still running after
        ``grace``."""
        self._stopping.set()
        self._supervisor.join(timeout=5)
        with self._lock:
            sent = time.time()
            live = [s for s in self.slots if s.proc and s.proc.poll() is None]
            for slot in live:
                slot.proc.send_signal(signal.SIGTERM)
            for slot in live:
                try:
                    slot.proc.wait(timeout=max(0.1, grace - (time.time() - sent)))
                    self.record.stop_seconds.append(time.time() - sent)
                except subprocess.TimeoutExpired:
                    slot.proc.kill()
                    slot.proc.wait()
                    self.record.stop_forced += 1

    def pids(self) -> list[int]:
        return [s.proc.pid for s in self.slots if s.proc and s.proc.poll() is None]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def environment(base: dict, **values: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWFLOW_")}
    env.update(base)
    env.update(values)
    env["PYTHONUNBUFFERED"] = "1"
    return env
