"""The ``reviewflow`` command: the one place that wires the engine and the web app together.

Every command takes the database from ``REVIEWFLOW_DATABASE_URL`` and upgrades
the schema first. ``check`` and ``deploy`` print one line per problem
(``file: element id: message``) and exit 1.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from engine import config
from engine.bpmn import bundle as bundles
from engine.services import Reviewflow
from engine.services.actor import Actor
from engine.services.errors import ServiceError
from engine.worker import Worker


def _paths(args) -> list[Path]:
    settings = config.load()
    return [Path(p) for p in args.paths] or [settings.processes_dir, settings.forms_dir]


def _read_files(args) -> dict[str, bytes] | None:
    try:
        return bundles.collect_files(_paths(args))
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return None


def _print_problems(exc: ServiceError) -> None:
    """One line per problem, ``file: element id: message``, as process owners' tools expect."""
    for p in exc.details or []:
        print(f"{p['file']}: {p['element_id'] or '-'}: {p['message']}")
    if not exc.details:
        print(exc.message)


def cmd_check(args) -> int:
    files = _read_files(args)
    if files is None:
        return 1
    service = Reviewflow()
    try:
        built = service.deployments.check(files)
    except ServiceError as exc:
        _print_problems(exc)
        return 1
    print(f"ok: {len(built.processes)} processes, {len(built.decisions)} decisions, {len(built.forms)} forms, "
          f"{len(built.rulesets)} rule sets")
    return 0


def cmd_deploy(args) -> int:
    files = _read_files(args)
    if files is None:
        return 1
    service = Reviewflow()
    try:
        result = service.deployments.deploy(files, Actor(args.actor, frozenset({"process_owner"})))
    except ServiceError as exc:
        _print_problems(exc)
        return 1
    if not result["processes"] and not result["decisions"] and not result["rulesets"]:
        print("nothing changed")
    for p in result["processes"]:
        print(f"deployed {p['process_id']} version {p['version']}")
    for d in result["decisions"]:
        print(f"deployed decision {d['decision_id']} version {d['version']}")
    for r in result["rulesets"]:
        print(f"deployed rule set {r['name']}")
    return 0


def cmd_roles(args) -> int:
    for role in Reviewflow().queries.roles():
        print(role)
    return 0


def cmd_user_add(args) -> int:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    try:
        Reviewflow().users.add(args.name, args.role, password=password)
    except ServiceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"added {args.name}: {', '.join(sorted(set(args.role)))}")
    return 0


def cmd_token_create(args) -> int:
    try:
        print(Reviewflow().users.create_token(args.name))
    except ServiceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    return 0


def cmd_calendar(args) -> int:
    service = Reviewflow()
    if args.day is None:
        for o in service.calendar.overrides():
            print(f"{o['day']} {o['kind']} {o['note']}")
        return 0
    kind = "holiday" if args.holiday else "working" if args.working else "none"
    try:
        service.calendar.set_override(args.day, kind, args.note or "", Actor(args.actor, frozenset({"admin"})))
    except ServiceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"{args.day}: {kind}")
    return 0


def cmd_token_revoke(args) -> int:
    try:
        count = Reviewflow().users.revoke_tokens(args.name)
    except ServiceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"revoked {count} token(s) of {args.name}")
    return 0


def cmd_user_active(args) -> int:
    try:
        Reviewflow().users.set_active(args.name, args.active)
    except ServiceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"{args.name} {'enabled' if args.active else 'disabled'}")
    return 0


def cmd_user_reset_mfa(args) -> int:
    """A lost authenticator: the person sets up a new one at their next sign-in; their open sessions end."""
    try:
        result = Reviewflow().mfa.reset(args.name, Actor(args.actor, frozenset({"admin"})))
    except ServiceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"reset multi-factor sign-in of {args.name} ({result['sessions_ended']} session(s) ended)")
    return 0


def _status_line(name: str, check: dict) -> str:
    if not check["ok"]:
        return f"{name}: {check['detail']}"
    note = check.get("detail") or (f"revision {check['revision']}" if check.get("revision") else "")
    return f"{name}: ok ({note})" if note else f"{name}: ok"


def cmd_status(args) -> int:
    """What ``/readyz`` answers, one line per check: exit 0 when ready, 1 when not. The schema is read,
    never upgraded; an unreachable database is a line of the report, not a traceback."""
    from engine.services.health import this_host

    report = Reviewflow(upgrade=False).health.readiness(host=this_host() if args.this_host else None)
    for name, check in report["checks"].items():
        print(_status_line(name, check))
    return 0 if report["status"] == "ready" else 1


def _log_to_stderr() -> None:
    """Log lines (``time level logger message``) on stderr: what the worker survives is visible there."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)      # the library logs every state change at INFO


def cmd_worker(args) -> int:
    """Timers and the outbox until SIGTERM (or Ctrl-C): the e-mail in hand is finished, then exit 0."""
    _log_to_stderr()
    service = Reviewflow()
    stop = threading.Event()

    def on_signal(signum, _frame):
        logging.getLogger("reviewflow.worker").info("worker: %s received", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker = Worker(service, args.interval).start()
    print("worker running: timers and outbox", flush=True)
    while not stop.wait(1.0):
        pass
    worker.shutdown()
    return 0


def cmd_serve(args) -> int:
    from waitress import serve

    from web.app import create_app

    _log_to_stderr()
    service = Reviewflow()
    app = create_app(service)

    def on_sigterm(_signum, _frame):
        raise KeyboardInterrupt   # waitress stops serving on it; the in-process worker then stops in order

    signal.signal(signal.SIGTERM, on_sigterm)
    worker = None if args.no_worker else Worker(service, args.interval).start()
    if worker is not None:
        from web import health

        health.own_worker(app, worker.owner)        # /readyz: this process is ready when its own worker beats
    print(f"reviewflow on http://{args.host}:{args.port}/ (API: /api/v1, OpenAPI: /api/v1/openapi.json)", flush=True)
    try:
        serve(app, host=args.host, port=args.port, threads=8)
    except KeyboardInterrupt:
        pass
    finally:
        if worker is not None:
            worker.shutdown()
    return 0


def cmd_demo(args) -> int:
    """Deploy the processes into an empty database, create one demo account per role and a few demo cases
    (never in production). Run again (``make run`` every time), it leaves the deployed processes alone: a
    version a process owner made in the modeller stays the latest; ``reviewflow deploy`` deploys the files."""
    from engine.services import demo

    settings = config.load()
    if settings.is_production:
        print("demo accounts are refused when REVIEWFLOW_ENV=production", file=sys.stderr)
        return 1
    service = Reviewflow()
    if service.queries.processes():
        print("processes already deployed; not redeploying over versions made in the modeller "
              "(run `reviewflow deploy` to deploy the files)")
    else:
        rc = cmd_deploy(argparse.Namespace(paths=[], actor="demo"))
        if rc:
            return rc
    existing = {u["username"] for u in service.users.list()}
    if "demo" not in existing:
        roles = service.queries.roles()
        service.users.add("demo", roles, display_name="Demo user (every role)")
    seeded = demo.seed(service, os.environ.get("REVIEWFLOW_DEMO_PASSWORD") or None)
    print(f"demo accounts (password for each: {seeded['password']}):")
    for username in seeded["accounts"]:
        print(f"  {username:10} {', '.join(sorted(service.users.actor(username).roles))}")
    if seeded["cases"]:
        print(f"demo cases: {', '.join(seeded['cases'])}")
    print(f"demo user: demo (roles: {', '.join(service.users.actor('demo').roles)})")
    print(f"demo API token: {service.users.create_token('demo')}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reviewflow", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="the web app and API (with the timer and outbox worker in-process)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-worker", action="store_true", help="do not run timers and the outbox in this process")
    p.add_argument("--interval", type=float, default=15.0, help="seconds between passes of each worker loop")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("worker", help="timers and outbox delivery on their own")
    p.add_argument("--interval", type=float, default=15.0, help="seconds between passes of each loop")
    p.set_defaults(func=cmd_worker)
    for name, func, help_ in (("check", cmd_check, "validate without deploying"), ("deploy", cmd_deploy, "validate and deploy")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("paths", nargs="*", help="files or directories (default: processes/ and forms/)")
        if name == "deploy":
            p.add_argument("--actor", default="cli", help=argparse.SUPPRESS)
        p.set_defaults(func=func)
    sub.add_parser("roles", help="the role names, one a line").set_defaults(func=cmd_roles)
    p = sub.add_parser("status", help="database, schema and worker heartbeat, one line each; exit 1 when not ready")
    p.add_argument("--this-host", action="store_true",
                   help="count only the heartbeats of workers on this host (a worker container's health check)")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("user", help="manage users")
    usub = p.add_subparsers(dest="user_command", required=True)
    p = usub.add_parser("add", help="create a user")
    p.add_argument("name")
    p.add_argument("--role", action="append", required=True)
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_user_add)
    for name, active in (("disable", False), ("enable", True)):
        p = usub.add_parser(name, help=f"{name} an account (tokens and sign-in)")
        p.add_argument("name")
        p.set_defaults(func=cmd_user_active, active=active)
    p = usub.add_parser("reset-mfa", help="take away a lost authenticator: set up again at the next sign-in")
    p.add_argument("name")
    p.add_argument("--actor", default="cli", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_user_reset_mfa)
    p = sub.add_parser("token", help="API tokens")
    tsub = p.add_subparsers(dest="token_command", required=True)
    p = tsub.add_parser("create", help="print a new API token for a user")
    p.add_argument("name")
    p.set_defaults(func=cmd_token_create)
    p = tsub.add_parser("revoke", help="withdraw every API token of a user")
    p.add_argument("name")
    p.set_defaults(func=cmd_token_revoke)
    p = sub.add_parser("calendar", help="list or change the bank-holiday overrides")
    p.add_argument("day", nargs="?", help="YYYY-MM-DD (omit to list the overrides)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--holiday", action="store_true", help="make the day a non-working day")
    group.add_argument("--working", action="store_true", help="make a listed holiday a working day")
    group.add_argument("--clear", action="store_true", help="remove the override")
    p.add_argument("--note", default="")
    p.add_argument("--actor", default="cli", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_calendar)
    sub.add_parser("demo", help="deploy and create a demo user with a token").set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except config.ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
