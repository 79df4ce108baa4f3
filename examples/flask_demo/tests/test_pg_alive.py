"""PostgreSQL connections are checked at checkout by their socket
(pg_alive.py): one the server ended is replaced before a request uses it,
without the round trip of pool_pre_ping."""
import socket

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sqlalchemy.exc import DisconnectionError

from flask_demo import pg_alive
from flask_demo.models import db


class FakeConnection:
    """What the check reads of a psycopg2 connection: closed, fileno()."""

    def __init__(self, sock, closed=0):
        self.sock, self.closed = sock, closed

    def fileno(self):
        return self.sock.fileno()


def test_check_refuses_ended_and_closed_connections():
    ours, server = socket.socketpair()
    try:
        pg_alive._check(FakeConnection(ours), None, None)      # idle: kept
        server.sendall(b"E")           # the server's FATAL message
        with pytest.raises(DisconnectionError):
            pg_alive._check(FakeConnection(ours), None, None)
        with pytest.raises(DisconnectionError):
            pg_alive._check(FakeConnection(ours, closed=1), None, None)
    finally:
        ours.close()
        server.close()
    quiet, gone = socket.socketpair()
    gone.close()                       # end of the stream, nothing sent
    try:
        with pytest.raises(DisconnectionError):
            pg_alive._check(FakeConnection(quiet), None, None)
    finally:
        quiet.close()


def _postgres(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL only (MOVIEME_TEST_DATABASE_URL)")


def test_no_ping_round_trip(app):
    _postgres(app)
    with app.app_context():
        assert db.engine.pool._pre_ping is False


def test_terminated_connections_replaced_without_an_error(app, member):
    """Every connection of the site ended by the server (as a restart or
    pg_terminate_backend does) between requests: the next pages are served,
    not answered 503."""
    _postgres(app)
    assert member.get("/ratings").status_code == 200
    # from outside the site's pool, as the server's administrator would
    outside = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    try:
        with outside.connect() as killer:
            n = killer.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    finally:
        outside.dispose()
    assert n >= 1                      # the site's pooled connection
    for url in ("/ratings", "/", "/recommendations/quick"):
        resp = member.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
