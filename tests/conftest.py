"""Shared fixtures: databases (SQLite and, when configured, PostgreSQL) and the loopback stack."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from borker.db import normalize_url

# Set to a PostgreSQL URL (any database the user may CREATE DATABASE from) to
# run every database test on PostgreSQL as well as SQLite.
POSTGRES_ENV = "BORKER_TEST_POSTGRES_URL"

os.environ.setdefault("SKIP_SLACK_SDK_WARNING", "1")


def _postgres_params() -> list[object]:
    marks = [] if os.environ.get(POSTGRES_ENV) else [pytest.mark.skip(reason=f"{POSTGRES_ENV} is not set")]
    return [pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql", marks=marks)]


@pytest.fixture(params=_postgres_params())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for one test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'borker.db'}"
        return
    admin_url = normalize_url(os.environ[POSTGRES_ENV])
    name = f"borker_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def stack(database_url: str) -> Iterator["LoopbackStack"]:
    from bot.loopback import LoopbackStack

    with LoopbackStack(database_url=database_url) as running:
        yield running
