"""The ``reviewflow`` command: the one place that wires the engine and the web app together.

Every command takes the database from ``REVIEWFLOW_DATABASE_URL`` and brings the schema to this code's
revision first (``status`` only reads it). One handler turns every expected failure into one line on
stderr and an exit status, never a traceback: 1 when the request was refused (an unknown user, a
problem in a diagram), 2 when the command cannot run here (a usage error, a setting, the database
unreachable). ``check`` and ``deploy`` print one line per problem (``file: element id: message``)
on stdout, as process owners' tools expect.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

import click

import engine
from engine import config
from engine.services.actor import REQUEST_ONLY_PREFIX, Actor
from engine.services.errors import ServiceError

CONTEXT = {"help_option_names": ["-h", "--help"]}


class Refused(click.ClickException):
    """An expected failure: its message on one line, and an exit status (1 refused, 2 cannot run)."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(self.format_message(), err=True)


def _database_named(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split(":", 1)[0]


class Commands(click.Group):
    """The command group whose ``invoke`` is the one error handler of every command below it."""

    def invoke(self, ctx: click.Context):
        from engine.store.db import unavailable

        try:
            return super().invoke(ctx)
        except ServiceError as exc:
            raise Refused(exc.message) from None
        except config.ConfigError as exc:
            raise Refused(f"configuration error: {exc}", 2) from None
        except Exception as exc:
            if unavailable(exc):
                url = config.load().database_url
                raise Refused(
                    f"the database cannot be reached ({_database_named(url)}): {type(exc).__name__}", 2
                ) from None
            raise


def _service(upgrade: bool = True):
    from engine.services import Reviewflow

    return Reviewflow(upgrade=upgrade)


def _admin(name: str) -> Actor:
    return Actor(name, frozenset({"admin"}))


@click.group(cls=Commands, context_settings=CONTEXT)
@click.version_option(
    engine.__version__, "-V", "--version", prog_name="reviewflow", message="%(prog)s %(version)s"
)
def cli() -> None:
    """Child-safeguarding case reviews run as BPMN processes on a working-day clock."""


# --- running ------------------------------------------------------------------------------------


def _log_to_stderr() -> None:
    """Log lines on stderr (engine/logs.py): one per request and command, and what the worker survives."""
    from engine import logs

    settings = config.load()
    logs.configure(settings.log_level, settings.log_format)


def _interval_option(help_text: str):
    """How often the worker loops run (``serve`` and ``worker`` alike)."""
    return click.option(
        "--interval", type=click.FloatRange(0.1, 3600), default=15.0, show_default=True, help=help_text
    )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--no-worker", is_flag=True, help="Do not run timers and the outbox in this process.")
@_interval_option("Seconds between passes of each worker loop.")
def serve(host: str, port: int, no_worker: bool, interval: float) -> int:
    """The web app and API (with the timer and outbox worker in-process)."""
    from waitress import serve as waitress_serve

    from engine.worker import Worker
    from web.app import create_app

    _log_to_stderr()
    service = _service()
    app = create_app(service)

    def on_sigterm(_signum, _frame):
        raise KeyboardInterrupt  # waitress stops serving on it; the in-process worker then stops in order

    signal.signal(signal.SIGTERM, on_sigterm)
    worker = None if no_worker else Worker(service, interval).start()
    if worker is not None:
        from web import health

        health.own_worker(app, worker.owner)  # /readyz: this process is ready when its own worker beats
    print(f"reviewflow on http://{host}:{port}/ (API: /api/v1, OpenAPI: /api/v1/openapi.json)", flush=True)
    try:
        waitress_serve(app, host=host, port=port, threads=8)
    except KeyboardInterrupt:
        pass
    finally:
        if worker is not None:
            worker.shutdown()
    return 0


@cli.command()
@_interval_option("Seconds between passes of each loop.")
def worker(interval: float) -> int:
    """Timers and outbox delivery on their own, until SIGTERM (the e-mail in hand is finished)."""
    from engine.worker import Worker

    _log_to_stderr()
    service = _service()
    stop = threading.Event()

    def on_signal(signum, _frame):
        logging.getLogger("reviewflow.worker").info("worker: %s received", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    running = Worker(service, interval).start()
    print("worker running: timers and outbox", flush=True)
    while not stop.wait(1.0):
        pass
    running.shutdown()
    return 0


@cli.command()
def migrate() -> int:
    """Bring the database schema to this code's revision, and exit."""
    from engine.store.db import SCHEMA_REVISION

    _service()
    print(f"schema at revision {SCHEMA_REVISION}")
    return 0


def _status_line(name: str, check: dict) -> str:
    if not check["ok"]:
        return f"{name}: {check['detail']}"
    note = check.get("detail") or (f"revision {check['revision']}" if check.get("revision") else "")
    return f"{name}: ok ({note})" if note else f"{name}: ok"


@cli.command()
@click.option(
    "--this-host",
    is_flag=True,
    help="Count only the heartbeats of workers on this host (a worker container's health check).",
)
def status(this_host: bool) -> int:
    """Database, schema and worker heartbeat, one line each; exit 1 when not ready.

    What ``/readyz`` answers. The schema is read, never upgraded; an unreachable database is a line of
    the report."""
    from engine.services.health import this_host as host_name

    report = _service(upgrade=False).health.readiness(host=host_name() if this_host else None)
    for name, check in report["checks"].items():
        print(_status_line(name, check))
    return 0 if report["status"] == "ready" else 1


# --- processes ----------------------------------------------------------------------------------


def _files(paths: tuple[str, ...]) -> dict[str, bytes]:
    from engine.bpmn import bundle

    settings = config.load()
    try:
        return bundle.collect_files([Path(p) for p in paths] or [settings.processes_dir, settings.forms_dir])
    except FileNotFoundError as exc:
        raise Refused(str(exc)) from None


def _print_problems(exc: ServiceError) -> int:
    """One line per problem, ``file: element id: message``, as process owners' tools expect."""
    for p in exc.details or []:
        print(f"{p['file']}: {p['element_id'] or '-'}: {p['message']}")
    if not exc.details:
        print(exc.message)
    return 1


@cli.command()
@click.argument("paths", nargs=-1)
def check(paths: tuple[str, ...]) -> int:
    """Validate diagrams, decisions, forms, rule sets and the directory of agencies without deploying
    (default processes/ and forms/)."""
    from engine import agencies

    files = _files(paths)
    service = _service()
    directory = agencies.problems(service.settings.agencies)  # ``file:line: what is wrong``
    for line in directory:
        print(line)
    try:
        built = service.deployments.check(files)
    except ServiceError as exc:
        return _print_problems(exc)
    if directory:
        return 1
    _warn_unaddressed(service, built)
    print(
        f"ok: {len(built.processes)} processes, {len(built.decisions)} decisions, {len(built.forms)} forms, "
        f"{len(built.rulesets)} rule sets, {len(agencies.load(service.settings.agencies).agencies)} agencies"
    )
    return 0


def _warn_unaddressed(service, built) -> None:
    """A warning for each recipient key a diagram's notification step names that the partnership's named
    recipients (the database's copy) lack: that step would stop the case until the key is added."""
    from engine.services.recipients import keys_named

    named = set(service.recipients.named())
    for process in sorted(built.processes.values(), key=lambda p: p.file):
        for key in sorted(keys_named(process.bpmn) - named):
            print(
                f"warning: {process.file}: names the recipient '{key}', which has no addresses: add it "
                "under Administration, Recipients (or reviewflow recipients set)"
            )


@cli.command()
@click.argument("paths", nargs=-1)
@click.option("--actor", default="cli", hidden=True)
@click.option(
    "--force",
    is_flag=True,
    help="Also replace versions a process owner deployed from the modeller (or the API) with the files.",
)
def deploy(paths: tuple[str, ...], actor: str, force: bool = False) -> int:
    """Validate, then deploy new versions of what changed (default processes/ and forms/). A file whose
    deployed version a process owner made in the modeller is skipped, and named, unless --force."""
    files = _files(paths)
    service = _service()
    try:
        result = service.deployments.deploy_files(
            files, Actor(actor, frozenset({"process_owner"})), force=force
        )
    except ServiceError as exc:
        return _print_problems(exc)
    for s in result["skipped"]:
        made = [f"{p['process_id']} version {p['version']}" for p in s["processes"]] + [
            f"decision {d['decision_id']} version {d['version']}" for d in s["decisions"]
        ]
        print(
            f"skipped {', '.join(made) or s['file']}: {s['file']} was deployed by {s['deployed_by']} "
            f"on {s['deployed_at'][:10]} (from the modeller), not from the files; --force replaces it"
        )
    if not result["processes"] and not result["decisions"] and not result["rulesets"]:
        print("nothing changed")
    for p in result["processes"]:
        print(f"deployed {p['process_id']} version {p['version']}")
    for d in result["decisions"]:
        print(f"deployed decision {d['decision_id']} version {d['version']}")
    for r in result["rulesets"]:
        print(f"deployed rule set {r['name']}")
    _print_directories(service)
    return 0


def _print_directories(service) -> None:
    """What bringing the seed files of the named recipients and the agencies into the database did, and the
    keys it kept as an administrator changed them in the browser (engine/services/directories.py)."""
    from engine.services import directories

    for line in directories.of(service.core).reported:
        print(line)


@cli.command()
def roles() -> int:
    """The role names, one a line (the deployed processes' lanes, then the system roles)."""
    for role in _service().queries.roles():
        print(role)
    return 0


# --- people -------------------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT)
def user() -> None:
    """Manage user accounts."""


def _unknown_roles(service, wanted: tuple[str, ...]) -> list[str]:
    """Roles no deployed process names (a lane), beyond the system roles and an agency's own role."""
    known = set(service.queries.roles())
    return [
        r
        for r in wanted
        if r not in known
        and not (r.startswith(REQUEST_ONLY_PREFIX) and r[len(REQUEST_ONLY_PREFIX) :].strip())
    ]


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    "roles_",
    multiple=True,
    required=True,
    help="A role (repeat for several): a lane of a deployed process, admin, manager, process_owner "
    "or 'Agency: NAME'.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--email", default=None, help="Their e-mail address: new tasks for them are e-mailed to it.")
def user_add(name: str, roles_: tuple[str, ...], password_stdin: bool, email: str | None) -> int:
    """Create a user."""
    service = _service()
    unknown = _unknown_roles(service, roles_)
    if unknown:
        raise Refused(
            f"unknown role(s): {', '.join(unknown)}; `reviewflow roles` lists the roles "
            "(deploy the process that names a role first)"
        )
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    service.users.add(name, list(roles_), password=password, email=email, actor="cli")
    print(f"added {name}: {', '.join(sorted(set(roles_)))}")
    return 0


@user.command("password")
@click.argument("name")
@click.option(
    "--password-stdin", is_flag=True, required=True, help="Read the password from the first line of stdin."
)
def user_password(name: str, password_stdin: bool) -> int:
    """Set a user's password (the password policy applies: at least 12 characters, not a common password,
    not containing the user name)."""
    _service().users.set_password(name, sys.stdin.readline().rstrip("\n"), actor="cli")
    print(f"password of {name} set")
    return 0


@user.command("show")
@click.argument("name")
def user_show(name: str) -> int:
    """A user's roles, whether they are enabled, their e-mail address and their choice of new-task e-mails."""
    found = [u for u in _service().users.list() if u["username"] == name]
    if not found:
        raise Refused(f"no user '{name}'")
    u = found[0]
    print(name)
    print(f"roles: {', '.join(u['roles'])}")
    print(f"active: {'yes' if u['active'] else 'no'}")
    print(f"e-mail: {u['email'] or '(none)'}")
    print(f"new-task e-mails: {'on' if u['new_task_emails'] else 'off (their choice)'}")
    return 0


@user.command("email")
@click.argument("name")
@click.argument("address")
@click.option("--actor", default="cli", hidden=True)
def user_email(name: str, address: str, actor: str) -> int:
    """Set a user's e-mail address ('' removes it); they turn new-task e-mails off and on in their account."""
    _service().users.set_email_settings(name, email=address, actor=actor)
    print(f"{name}: e-mail {address.strip() or 'removed'}")
    return 0


def _set_active(name: str, active: bool) -> int:
    _service().users.set_active(name, active, actor="cli")
    print(f"{name} {'enabled' if active else 'disabled'}")
    return 0


@user.command("disable")
@click.argument("name")
def user_disable(name: str) -> int:
    """Disable an account: no sign-in, no API tokens; its sessions end."""
    return _set_active(name, False)


@user.command("enable")
@click.argument("name")
def user_enable(name: str) -> int:
    """Enable a disabled account again."""
    return _set_active(name, True)


@user.command("reset-mfa")
@click.argument("name")
@click.option("--actor", default="cli", hidden=True)
def user_reset_mfa(name: str, actor: str) -> int:
    """Take away a lost authenticator: set up again at the next sign-in; open sessions end."""
    result = _service().mfa.reset(name, _admin(actor))
    print(f"reset multi-factor sign-in of {name} ({result['sessions_ended']} session(s) ended)")
    return 0


@cli.group(context_settings=CONTEXT)
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("name")
@click.option(
    "--name", "label", default=None, help="What the token is for (listed with it; the token never is)."
)
def token_create(name: str, label: str | None) -> int:
    """Print a new API token for a user (shown once)."""
    print(_service().users.create_token(name, actor="cli", name=label))
    return 0


@token.command("list")
@click.argument("name")
def token_list(name: str) -> int:
    """A user's API tokens: id, created, whether withdrawn, name (never the tokens themselves)."""
    for t in _service().users.tokens(name):
        state = "withdrawn" if t["revoked"] else "works"
        print(f"{t['id']}\t{t['created_at']:%Y-%m-%d}\t{state}\t{t['name'] or ''}")
    return 0


@token.command("revoke")
@click.argument("name")
@click.option("--id", "token_id", type=int, default=None, help="Withdraw only this token (`token list`).")
def token_revoke(name: str, token_id: int | None) -> int:
    """Withdraw every API token of a user, or one."""
    if token_id is not None:
        _service().users.revoke_token(name, token_id, actor="cli")
        print(f"revoked token {token_id} of {name}")
        return 0
    count = _service().users.revoke_tokens(name, actor="cli")
    print(f"revoked {count} token(s) of {name}")
    return 0


# --- the calendar -------------------------------------------------------------------------------


@cli.command()
@click.argument("day", required=False)
@click.option("--holiday", is_flag=True, help="Make DAY a non-working day.")
@click.option("--working", is_flag=True, help="Make a listed holiday a working day.")
@click.option("--clear", is_flag=True, help="Remove the override of DAY.")
@click.option("--note", default="", help="Why (shown beside the override).")
@click.option("--actor", default="cli", hidden=True)
def calendar(day: str | None, holiday: bool, working: bool, clear: bool, note: str, actor: str) -> int:
    """List the bank-holiday overrides, or change DAY (YYYY-MM-DD) with exactly one of the flags."""
    chosen = [kind for kind, given in (("holiday", holiday), ("working", working), ("none", clear)) if given]
    if len(chosen) > 1:
        raise click.UsageError("give one of --holiday, --working and --clear")
    kind = chosen[0] if chosen else None
    if day is None:
        if kind is not None:
            raise click.UsageError("give the DAY to change")
        for o in _service().calendar.overrides():
            print(f"{o['day']} {o['kind']} {o['note']}")
        return 0
    if kind is None:
        raise click.UsageError(f"say what to do with {day}: --holiday, --working or --clear")
    result = _service().calendar.set_override(day, kind, note, _admin(actor))
    print(f"{result['day']}: {kind} ({result['cases_recomputed']} case(s) recomputed)")
    return 0


# --- named recipients and agencies --------------------------------------------------------------


@cli.group(context_settings=CONTEXT, invoke_without_command=True)
@click.pass_context
def recipients(ctx: click.Context) -> int:
    """The named recipients: one a line, key, addresses and description (kept in the database; the
    recipients file seeds them)."""
    if ctx.invoked_subcommand is None:
        for r in _service().recipients.list(_admin("cli"))["recipients"]:
            print(f"{r['key']}\t{', '.join(r['addresses'])}\t{r['description']}")
    return 0


@recipients.command("set")
@click.argument("key")
@click.argument("addresses", nargs=-1, required=True)
@click.option("--description", default=None, help="Who the recipient is (kept if not given).")
def recipients_set(key: str, addresses: tuple[str, ...], description: str | None) -> int:
    """Give a named recipient its addresses (one or several), adding the key if it is new."""
    from engine.services.errors import NotFound

    service, actor = _service(), _admin("cli")
    try:
        kept = service.recipients.get(key, actor)["description"]
    except NotFound:
        service.recipients.add(key, list(addresses), description, actor)
        print(f"added {key}: {', '.join(addresses)}")
        return 0
    service.recipients.change(key, list(addresses), kept if description is None else description, actor)
    print(f"changed {key}: {', '.join(addresses)}")
    return 0


@recipients.command("test")
@click.argument("key")
def recipients_test(key: str) -> int:
    """Put a test message to each of a recipient's addresses in the outbox."""
    sent = _service().recipients.send_test(key, _admin("cli"))
    print(f"test message queued for {', '.join(sent)}")
    return 0


@cli.group(context_settings=CONTEXT, invoke_without_command=True)
@click.pass_context
def agencies(ctx: click.Context) -> int:
    """The directory of agencies: one a line, key, name, role, safeguarding lead, active people, and
    'retired' for those no longer offered."""
    if ctx.invoked_subcommand is None:
        for a in _service().agencies.for_admin(_admin("cli")):
            state = "" if a["active"] else "\tretired"
            print(
                f"{a['key']}\t{a['name']}\t{a['role']}\t{a['safeguarding_lead']}\t{a['active_users']}{state}"
            )
    return 0


@agencies.command("add")
@click.argument("key")
@click.argument("name")
@click.option("--lead", default="", help="The safeguarding lead's e-mail address.")
def agencies_add(key: str, name: str, lead: str) -> int:
    """Add an agency under KEY (for good); its people's role is 'Agency: NAME'."""
    added = _service().agencies.add(key, name, lead, _admin("cli"))
    print(f"added {key}: {added['name']} (role {added['role']})")
    return 0


@agencies.command("change")
@click.argument("key")
@click.option("--name", default=None, help="Its new name (its key and role stay).")
@click.option("--lead", default=None, help="Its safeguarding lead's e-mail address ('' for none).")
def agencies_change(key: str, name: str | None, lead: str | None) -> int:
    """Rename an agency or change its safeguarding lead."""
    changed = _service().agencies.change(key, _admin("cli"), name=name, safeguarding_lead=lead)
    print(f"{'changed' if changed['changed'] else 'unchanged'} {key}: {changed['name']}")
    return 0


@agencies.command("retire")
@click.argument("key")
def agencies_retire(key: str) -> int:
    """No longer offer an agency (cases that chose it still name it)."""
    _service().agencies.change(key, _admin("cli"), active=False)
    print(f"retired {key}")
    return 0


@agencies.command("reactivate")
@click.argument("key")
def agencies_reactivate(key: str) -> int:
    """Offer a retired agency again."""
    _service().agencies.change(key, _admin("cli"), active=True)
    print(f"reactivated {key}")
    return 0


# --- the outbox ---------------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT, invoke_without_command=True)
@click.option("--status", default=None, help="Only messages with this status (pending, sent, dead, ...).")
@click.pass_context
def outbox(ctx: click.Context, status: str | None) -> int:
    """The notifications, newest first: id, status, failed attempts, recipient and subject, one a line."""
    if ctx.invoked_subcommand is None:
        from engine.services.outbox import OutboxFilter

        found = _service().outbox.search(_admin("cli"), OutboxFilter(status=status or ""), size=200)
        for m in found["rows"]:
            print(f"{m['id']}\t{m['status']}\t{m['attempts']}\t{m['recipient']}\t{m['subject']}")
    return 0


@outbox.command("requeue")
@click.argument("ids", nargs=-1, required=True, type=click.IntRange(1, 2**63 - 1))
@click.option("--actor", default="cli", hidden=True)
def outbox_requeue(ids: tuple[int, ...], actor: str) -> int:
    """Send dead notifications again: all of them, or none if one is not dead."""
    count = _service().outbox.requeue_many(list(ids), _admin(actor))
    print(f"{count} notification(s) will be sent again")
    return 0


@outbox.command("cancel")
@click.argument("message_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@click.option("--actor", default="cli", hidden=True)
def outbox_cancel(message_id: int, reason: str, actor: str) -> int:
    """Cancel a notification that waits or gave up: it is never sent."""
    _service().outbox.cancel(message_id, reason, _admin(actor))
    print(f"notification {message_id} cancelled")
    return 0


# --- the demo -----------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--force", is_flag=True, help="Also replace versions a process owner deployed from the modeller."
)
@click.pass_context
def demo(ctx: click.Context, force: bool = False) -> int:
    """Deploy the files, and create demo accounts (one per role) and demo cases.

    Never in production. Run again (``make run`` every time), it deploys what changed on disk but never over
    a version a process owner made in the modeller: it names each process it skipped (``--force`` replaces
    them too); no demo case or account is made twice."""

    from engine.services import demo as demo_data

    if config.load().is_production:
        raise Refused("demo accounts are refused when REVIEWFLOW_ENV=production")
    service = _service()
    if ctx.invoke(deploy, paths=(), actor="demo", force=force):
        return 1
    if "demo" not in {u["username"] for u in service.users.list()}:
        service.users.add("demo", service.queries.roles(), display_name="Demo user (every role)")
    seeded = demo_data.seed(service, service.settings.demo_password)
    print(f"demo accounts (password for each: {seeded['password']}):")
    for username in seeded["accounts"]:
        print(f"  {username:10} {', '.join(sorted(service.users.actor(username).roles))}")
    if seeded["cases"]:
        print(f"demo cases: {', '.join(seeded['cases'])}")
    print(f"demo user: demo (roles: {', '.join(service.users.actor('demo').roles)})")
    print(f"demo API token: {service.users.create_token('demo')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status it returns (expected failures: their line on stderr and 1 or 2)."""
    try:
        result = cli.main(args=argv, prog_name="reviewflow", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("aborted", err=True)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
