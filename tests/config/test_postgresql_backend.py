"""config.postgresql: the health check that reads the socket, and the prepared statements of the hot reads."""

from __future__ import annotations

import select
import tempfile
import time

import pytest
from django.db import DataError, close_old_connections, connection, connections
from django.test.utils import CaptureQueriesContext, override_settings

from accounts.models import User
from config.statements import get_by_pk, prepared_cursor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def session():
    """A second connection to the test database, as a web process holds one between requests."""
    other = connections.create_connection("default")
    other.ensure_connection()
    yield other
    other.close()


def _messages_sent(conn, action) -> list[str]:
    """The protocol messages the client sent to PostgreSQL while `action` ran (libpq's trace of the session)."""
    with tempfile.TemporaryFile() as trace:
        conn.connection.pgconn.trace(trace.fileno())
        try:
            action()
        finally:
            conn.connection.pgconn.untrace()
        trace.seek(0)
        lines = trace.read().decode().splitlines()
    # Each line: time, F (frontend) or B (backend), length, message type, its content.
    return [" ".join(line.split("\t")[3:]) for line in lines if line.split("\t")[1] == "F"]


def _request_starts(conn) -> None:
    """What Django does when a request starts: drop obsolete connections, health-check the rest at next use."""
    close_old_connections()
    conn.close_if_unusable_or_obsolete()


def test_a_live_session_passes_its_health_check_without_a_round_trip(session):
    assert session.health_check_enabled
    _request_starts(session)
    assert not session.health_check_done

    def first_query():
        with session.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()

    pid = session.connection.info.backend_pid
    sent = _messages_sent(session, first_query)
    # The request's own statement, and nothing before it (Django's check would have sent a Query "SELECT 1").
    assert session.health_check_done
    assert any("pg_backend_pid" in message for message in sent)
    assert not any("SELECT 1" in message for message in sent), sent
    assert session.connection.info.backend_pid == pid


def test_a_session_postgres_ended_is_replaced_before_the_request_uses_it(session):
    pid = session.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The server's goodbye reaches the idle socket.
    deadline = time.monotonic() + 10
    while not select.select([session.connection.fileno()], [], [], 0.05)[0]:
        assert time.monotonic() < deadline, "the terminated session's socket never became readable"
    _request_starts(session)
    assert session.connection is not None, "the connection must be reused (CONN_MAX_AGE), not closed for its age"
    assert not session.is_usable()
    with session.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_session_in_a_failed_transaction_is_asked_not_trusted(session):
    session.set_autocommit(False)
    with session.cursor() as cursor, pytest.raises(DataError):
        cursor.execute("SELECT 1 / 0")
    sent = _messages_sent(session, session.is_usable)
    assert sent, "a failed transaction is not idle: the check asks the server"
    session.rollback()
    session.set_autocommit(True)


def _prepared_here(conn) -> list[str]:
    with conn.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_login_row_is_read_by_a_prepared_statement_with_its_values_in_the_log(world):
    user = world.tuan
    connection.close()  # a new session: nothing prepared yet
    with CaptureQueriesContext(connection) as queries:
        first = get_by_pk(User, user.pk)
        again = get_by_pk(User, user.pk)
    stored = User.objects.get(pk=user.pk)
    fields = [field.attname for field in User._meta.concrete_fields]
    assert [getattr(first, name) for name in fields] == [getattr(stored, name) for name in fields]
    assert [getattr(again, name) for name in fields] == [getattr(stored, name) for name in fields]
    assert len(queries) == 2
    # The log shows the statement with its value, as for any other query.
    assert all(str(user.pk) in query["sql"] and "accounts_user" in query["sql"] for query in queries.captured_queries)
    prepared = [statement for statement in _prepared_here(connection) if "accounts_user" in statement]
    assert len(prepared) == 1 and "$1" in prepared[0]


def test_an_absent_row_and_a_bad_key_are_none(world):
    assert get_by_pk(User, 10**12) is None
    assert get_by_pk(User, "not-a-number") is None


@override_settings(DB_PREPARED_STATEMENTS=False)
def test_with_prepared_statements_off_nothing_is_prepared(world):
    connection.close()
    assert get_by_pk(User, world.tuan.pk).pk == world.tuan.pk
    with prepared_cursor(connection) as cursor:
        cursor.execute("SELECT %s::int + 1", [41])
        assert cursor.fetchone()[0] == 42
    assert _prepared_here(connection) == []


@pytest.fixture
def world(transactional_db):
    from tests.conftest import build_world

    return build_world()
