"""Shared fixtures: a fresh database per test (SQLite, and PostgreSQL where the server is
configured), a fixed clock, deployed processes, users, and a real SMTP server on loopback.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from engine import clock, config
from engine.services import Reviewflow
from engine.services.actor import Actor

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("REVIEWFLOW_TEST_POSTGRES_URL")


def pytest_report_header(config):
    where = f"against {POSTGRES_URL}" if POSTGRES_URL else "skipped (REVIEWFLOW_TEST_POSTGRES_URL unset)"
    return f"PostgreSQL tests: {where}"


@pytest.fixture(autouse=True)
def fixed_clock():
    """Every test starts at a known instant; tests move it with clock.set_now / clock.advance."""
    clock.set_now("2026-12-21T09:00:00+00:00")
    yield
    clock.set_now(None)


def _admin_sql(base: str, statement: str) -> None:
    """Run one statement outside any transaction (CREATE and DROP SCHEMA) on the server at ``base``."""
    import sqlalchemy as sa

    engine = sa.create_engine(
        base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.exec_driver_sql(statement)
    engine.dispose()


def _postgres_schema_url(base: str, schema: str) -> str:
    _admin_sql(base, f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def _drop_schema(base: str, schema: str) -> None:
    _admin_sql(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


DB_PARAMS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=DB_PARAMS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reviewflow.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("REVIEWFLOW_TEST_POSTGRES_URL is not set")
    schema = "t_" + uuid.uuid4().hex[:12]
    yield _postgres_schema_url(POSTGRES_URL, schema)
    _drop_schema(POSTGRES_URL, schema)


@pytest.fixture
def postgres_url():
    """A schema of its own on the test server, for what only PostgreSQL has."""
    if not POSTGRES_URL:
        pytest.skip("REVIEWFLOW_TEST_POSTGRES_URL is not set")
    schema = "t_" + uuid.uuid4().hex[:12]
    yield _postgres_schema_url(POSTGRES_URL, schema)
    _drop_schema(POSTGRES_URL, schema)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'reviewflow.db'}"


def make_settings(url: str, **overrides) -> config.Settings:
    env = {"REVIEWFLOW_DATABASE_URL": url, **overrides}
    return config.load(env)


@pytest.fixture
def service(database_url):
    svc = Reviewflow(make_settings(database_url))
    yield svc
    svc.db.dispose()


PROCESS_OWNER = Actor("olivia", frozenset({"process_owner"}))
BUSINESS_UNIT = Actor("bina", frozenset({"Business Unit"}))
AGENCY = Actor("amir", frozenset({"Contributing agency"}))
MANAGER = Actor("mo", frozenset({"manager"}))


@pytest.fixture
def deployed(service):
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    return service
