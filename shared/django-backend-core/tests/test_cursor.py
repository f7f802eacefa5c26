"""cursor.Cursor and dbapi.Connection over an in-test fake transport."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import pytest
from django_backend_core import dbapi
from django_backend_core.cursor import Cursor
from django_backend_core.metrics import RoundTrips
from django_backend_core.testing import ScriptedTransport
from django_backend_core.transport import Result, Statement, TransactionalTransport, Transport


class FakeTransport:
    """A tiny in-memory table store: "INSERT" appends, "SELECT" returns rows, counts traffic."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.sent: list[tuple[str, Statement | list[Statement]]] = []
        self.metrics = RoundTrips()
        self.closed = 0

    def _run(self, stmt: Statement) -> Result:
        if stmt.sql.startswith("INSERT"):
            self.rows.append(tuple(stmt.params))
            return Result(rowcount=1, lastrowid=len(self.rows))
        if stmt.sql.startswith("SELECT"):
            # server order is insertion order; rows come back as JSON-ish lists
            return Result(["a", "b"], [list(r) for r in self.rows], types=["INTEGER", "TEXT"])
        if stmt.sql.startswith("FAIL"):
            raise dbapi.IntegrityError("UNIQUE constraint failed: t.a", payload={"code": 1})
        return Result(rowcount=0)

    def execute(self, stmt: Statement) -> Result:
        self.sent.append(("execute", stmt))
        self.metrics.record(statements=1, sent=len(stmt.sql))
        return self._run(stmt)

    def batch(self, stmts: Sequence[Statement]) -> list[Result]:
        self.sent.append(("batch", list(stmts)))
        self.metrics.record(statements=len(stmts), sent=sum(len(s.sql) for s in stmts))
        return [self._run(s) for s in stmts]

    def close(self) -> None:
        self.closed += 1


class TxTransport(FakeTransport):
    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []

    def begin(self) -> None:
        self.log.append("begin")

    def commit(self) -> None:
        self.log.append("commit")

    def rollback(self) -> None:
        self.log.append("rollback")


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def conn(transport: FakeTransport) -> dbapi.Connection:
    return dbapi.Connection(transport)


def fill(conn: dbapi.Connection, n: int) -> None:
    conn.cursor().executemany("INSERT INTO t VALUES (%s, %s)", [(i, f"r{i}") for i in range(n)])


def test_protocol_conformance(transport: FakeTransport) -> None:
    assert isinstance(transport, Transport)
    assert not isinstance(transport, TransactionalTransport)
    assert isinstance(TxTransport(), TransactionalTransport)


def test_execute_translates_and_sends_one_statement(conn, transport) -> None:
    cur = conn.cursor()
    assert cur.execute("INSERT INTO t VALUES (%s, '%%s', %s)", [1, "x"]) is cur
    assert transport.sent == [("execute", Statement("INSERT INTO t VALUES (?, '%s', ?)", [1, "x"]))]
    assert cur.rowcount == 1
    assert cur.lastrowid == 1
    assert cur.description is None
    assert cur.fetchall() == []  # like sqlite3: no result set, nothing to fetch


def test_description_and_fetch_order(conn) -> None:
    fill(conn, 5)
    cur = conn.cursor()
    cur.execute("SELECT a, b FROM t")
    assert cur.description == (
        ("a", "INTEGER", None, None, None, None, None),
        ("b", "TEXT", None, None, None, None, None),
    )
    assert cur.description[0][1] == dbapi.NUMBER
    assert cur.description[1][1] == dbapi.STRING
    assert cur.rowcount == -1
    assert cur.fetchone() == (0, "r0")
    assert cur.rownumber == 1
    assert cur.fetchmany(2) == [(1, "r1"), (2, "r2")]
    assert cur.fetchall() == [(3, "r3"), (4, "r4")]
    assert cur.fetchone() is None
    assert cur.fetchmany() == []
    assert cur.fetchall() == []


def test_fetchmany_uses_arraysize(conn) -> None:
    fill(conn, 5)
    cur = conn.cursor()
    assert cur.arraysize == 1
    cur.execute("SELECT a, b FROM t")
    assert cur.fetchmany() == [(0, "r0")]
    cur.arraysize = 3
    assert [r[0] for r in cur.fetchmany()] == [1, 2, 3]
    assert [r[0] for r in cur.fetchmany(10)] == [4]


def test_iteration(conn) -> None:
    fill(conn, 3)
    cur = conn.cursor()
    cur.execute("SELECT a, b FROM t")
    assert next(cur) == (0, "r0")
    assert [row for row in cur] == [(1, "r1"), (2, "r2")]
    assert all(type(r) is tuple for r in conn.execute("SELECT a, b FROM t"))


def test_new_execute_replaces_result(conn) -> None:
    fill(conn, 2)
    cur = conn.cursor()
    cur.execute("SELECT a, b FROM t")
    cur.execute("UPDATE t SET a = 1")
    assert cur.description is None
    assert cur.fetchone() is None
    assert cur.rowcount == 0


def test_executemany_is_one_batch(conn, transport) -> None:
    cur = conn.cursor()
    before = transport.metrics.snapshot()
    cur.executemany("INSERT INTO t VALUES (%s, %s)", [(1, "a"), (2, "b"), (3, "c")])
    assert len(transport.sent) == 1
    kind, stmts = transport.sent[0]
    assert kind == "batch"
    assert [s.params for s in stmts] == [[1, "a"], [2, "b"], [3, "c"]]
    assert cur.rowcount == 3
    assert cur.lastrowid == 3
    assert transport.metrics.since(before) == {
        "requests": 1,
        "statements": 3,
        "bytes_sent": sum(len(s.sql) for s in stmts),
        "bytes_received": 0,
        "retries": 0,
    }


def test_executemany_empty_sends_nothing(conn, transport) -> None:
    cur = conn.cursor()
    cur.executemany("INSERT INTO t VALUES (%s, %s)", [])
    assert transport.sent == []
    assert cur.rowcount == 0


def test_executemany_checks_result_count(conn, transport) -> None:
    transport.batch = lambda stmts: []  # a broken transport must not go unnoticed
    with pytest.raises(dbapi.ProgrammingError, match="0 results for 2 statements"):
        conn.cursor().executemany("INSERT INTO t VALUES (%s, %s)", [(1, 2), (3, 4)])


def test_closed_cursor_and_connection_raise(conn, transport) -> None:
    cur = conn.cursor()
    cur.close()
    cur.close()  # idempotent
    for call in (
        lambda: cur.execute("SELECT a, b FROM t"),
        lambda: cur.executemany("INSERT INTO t VALUES (%s, %s)", [(1, 2)]),
        cur.fetchone,
        cur.fetchall,
        cur.fetchmany,
    ):
        with pytest.raises(dbapi.ProgrammingError, match="closed cursor"):
            call()
    other = conn.cursor()
    conn.close()
    conn.close()
    assert transport.closed == 1
    with pytest.raises(dbapi.ProgrammingError, match="closed database"):
        other.execute("SELECT a, b FROM t")
    with pytest.raises(dbapi.ProgrammingError):
        conn.cursor()
    with pytest.raises(dbapi.ProgrammingError):
        conn.commit()


def test_context_manager_closes(conn) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT a, b FROM t")
    assert cur.closed
    with pytest.raises(dbapi.ProgrammingError):
        cur.fetchone()
    with dbapi.Connection(FakeTransport()) as c2:
        pass
    assert c2.closed and c2.transport.closed == 1


def test_transport_errors_propagate_unchanged(conn) -> None:
    cur = conn.cursor()
    with pytest.raises(dbapi.IntegrityError) as info:
        cur.execute("FAIL")
    assert info.value.payload == {"code": 1}
    assert isinstance(info.value, dbapi.DatabaseError)


def test_adapt_and_inline_params(transport) -> None:
    conn = dbapi.Connection(
        transport,
        placeholder="dollar",
        adapt_param=lambda v: v.isoformat() if isinstance(v, datetime.date) else v,
        inline_param=lambda v: str(v) if type(v) is int else None,
    )
    conn.cursor().execute("INSERT INTO t VALUES (%s, %s, %s)", [7, datetime.date(2020, 1, 2), "x"])
    assert transport.sent[-1][1] == Statement(
        "INSERT INTO t VALUES (7, $1, $2)", ["2020-01-02", "x"]
    )
    conn.cursor().execute("INSERT INTO t VALUES (%(a)s, %(a)s)", {"a": datetime.date(2021, 1, 1)})
    assert transport.sent[-1][1] == Statement("INSERT INTO t VALUES ($1, $1)", ["2021-01-01"])


def test_params_none_sends_sql_verbatim(conn, transport) -> None:
    conn.cursor().execute("SELECT '%s' %% 2")
    assert transport.sent[-1][1] == Statement("SELECT '%s' %% 2", [])


def test_cursor_from_transport_directly() -> None:
    t = ScriptedTransport(lambda s: Result(["x"], [(s.params[0] * 2,)]))
    cur = Cursor(t, placeholder="numeric")
    assert cur.execute("SELECT %s", [21]).fetchone() == (42,)
    assert t.calls == [("execute", Statement("SELECT ?1", [21]))]
    assert cur.connection.metrics is t.metrics
    assert t.metrics.requests == 1 and t.metrics.statements == 1


def test_unsupported_cursor_methods_say_so(conn) -> None:
    cur = conn.cursor()
    with pytest.raises(dbapi.NotSupportedError, match="execute"):
        cur.callproc("p")
    with pytest.raises(dbapi.NotSupportedError):
        cur.nextset()
    cur.setinputsizes([1])
    cur.setoutputsize(1)


def test_transactions_delegate_to_transport() -> None:
    t = TxTransport()
    conn = dbapi.Connection(t)
    assert not conn.in_transaction
    conn.begin()
    assert conn.in_transaction
    conn.commit()
    assert not conn.in_transaction
    conn.begin()
    conn.rollback()
    assert t.log == ["begin", "commit", "begin", "rollback"]


def test_no_transaction_support_is_honest(conn) -> None:
    conn.commit()  # nothing open: harmless no-op
    conn.rollback()
    with pytest.raises(dbapi.NotSupportedError, match="atomic batch"):
        conn.begin()


def test_transport_in_transaction_attribute_wins() -> None:
    t = TxTransport()
    t.in_transaction = True  # type: ignore[attr-defined]
    assert dbapi.Connection(t).in_transaction


def test_metrics_default_and_explicit() -> None:
    t = FakeTransport()
    assert dbapi.Connection(t).metrics is t.metrics
    mine = RoundTrips()
    assert dbapi.Connection(t, metrics=mine).metrics is mine
    s = ScriptedTransport()
    del s.metrics
    assert isinstance(dbapi.Connection(s).metrics, RoundTrips)


def test_bad_placeholder_style() -> None:
    with pytest.raises(ValueError):
        dbapi.Connection(FakeTransport(), placeholder="format")


def test_repr_has_no_transport_state(conn) -> None:
    assert repr(conn) == "<Connection open transport=FakeTransport>"
    assert "rowcount=-1" in repr(conn.cursor())


@pytest.mark.parametrize(
    ("statement", "after"),
    [
        ("BEGIN", True),
        ("  begin immediate", True),
        ("START TRANSACTION", True),
        ("COMMIT", False),
        ("END TRANSACTION", False),
        ("ROLLBACK", False),
        ("ROLLBACK TO SAVEPOINT s1", True),
        ("ROLLBACK TRANSACTION TO s1", True),
        ("SAVEPOINT s1", True),
        ("SELECT 'BEGIN'", True),
        ("BEGINNING", True),  # not a keyword: nothing changes
    ],
)
def test_sql_transaction_statements_are_tracked(conn, statement, after) -> None:
    conn.cursor().execute("BEGIN")
    assert conn.in_transaction
    conn.cursor().execute(statement)
    assert conn.in_transaction is after


def test_sql_begin_then_commit_sends_commit(conn, transport) -> None:
    # Django's sqlite backend starts atomic blocks with SQL "BEGIN" and ends them with
    # connection.commit(): without transport.commit() the COMMIT must still reach the store.
    conn.cursor().execute("BEGIN")
    conn.commit()
    assert transport.sent[-1] == ("execute", Statement("COMMIT", []))
    assert not conn.in_transaction
    conn.commit()  # nothing open now: no round trip
    conn.cursor().execute("BEGIN")
    conn.rollback()
    assert [s.sql for _, s in transport.sent] == ["BEGIN", "COMMIT", "BEGIN", "ROLLBACK"]


def test_failed_commit_leaves_no_transaction_open(conn, transport) -> None:
    conn.cursor().execute("BEGIN")

    def refuse(stmt):
        raise dbapi.OperationalError("cannot commit - no transaction is active")

    transport.execute = refuse
    with pytest.raises(dbapi.OperationalError):
        conn.commit()
    assert not conn.in_transaction
