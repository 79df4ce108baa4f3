"""PostgreSQL connections checked at checkout by their socket, not by a
round trip to the server.

SQLAlchemy's pool_pre_ping runs `SELECT 1` each time a request takes a
connection from the pool, so that one the server has closed (a restart, an
administrator's pg_terminate_backend) is replaced before the request uses
it. On PostgreSQL that is a round trip per request, with psycopg2's `BEGIN`
before it: two of the five to seven of a page (docs/load-profile.md). A
server that ends a connection says so on its socket (a FATAL message, then
the end of the stream), and a connection resting in the pool has nothing
else to read (the site uses no LISTEN/NOTIFY). So a pooled connection
whose socket is readable, or that psycopg2 knows is closed, is refused at
checkout (DisconnectionError: the pool drops it and connects again, as
after a failed ping); others go straight to the request. A server that
vanishes without closing its sockets (a network cut) is found by the
request's own statement, as it would be by the ping's.

install(engine) adds the check to a PostgreSQL engine (made with
pool_pre_ping=False).
"""
import select

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError


def _check(dbapi_conn, record, proxy):
    if dbapi_conn.closed:
        raise DisconnectionError("connection closed")
    poller = select.poll()            # no FD_SETSIZE limit, unlike select()
    try:
        poller.register(dbapi_conn.fileno(), select.POLLIN)
        events = poller.poll(0)
    except (OSError, ValueError) as exc:
        raise DisconnectionError("connection socket: %s" % exc) from exc
    if events:
        raise DisconnectionError("the server ended the connection")


def install(engine):
    event.listen(engine, "checkout", _check)
