"""errors.Rule / ErrorMapper / SQLITE_RULES."""

from __future__ import annotations

import pytest
from django_backend_core import dbapi
from django_backend_core.errors import SQLITE_RULES, ErrorMapper, Rule, sqlite_name
from django_backend_core.secrets import Redactor


def test_rule_by_code_single_and_collection():
    single = Rule(dbapi.OperationalError, code=10000)
    many = Rule(dbapi.OperationalError, code=(401, "403"))
    assert single.matches("", code=10000)
    assert single.matches("", code="10000")
    assert not single.matches("", code=7500)
    assert not single.matches("")
    assert many.matches("", code=403) and many.matches("", code="401")
    assert not many.matches("", code=404)


def test_rule_by_sqlstate_prefix():
    rule = Rule(dbapi.IntegrityError, sqlstate="23")
    assert rule.matches("", sqlstate="23505")
    assert not rule.matches("", sqlstate="42P01")
    assert not rule.matches("")
    assert Rule(dbapi.DataError, sqlstate=("22", "54")).matches("", sqlstate="54000")


def test_rule_by_sqlite_name_primary_matches_extended():
    primary = Rule(dbapi.IntegrityError, sqlite="SQLITE_CONSTRAINT")
    extended = Rule(dbapi.IntegrityError, sqlite="CONSTRAINT_UNIQUE")  # prefix optional
    assert primary.matches("", sqlite_names={"SQLITE_CONSTRAINT_FOREIGNKEY"})
    assert primary.matches("", sqlite_names={"SQLITE_CONSTRAINT"})
    assert not primary.matches("", sqlite_names={"SQLITE_CONSTRAINTX"})
    assert extended.matches("", sqlite_names={"SQLITE_CONSTRAINT_UNIQUE"})
    assert not extended.matches("", sqlite_names={"SQLITE_CONSTRAINT"})


def test_rule_by_message_regex_case_insensitive_and_status():
    rule = Rule(dbapi.OperationalError, message=r"rate limit(ed)?", status=(429, 503))
    assert rule.matches("Rate Limited", status=429)
    assert not rule.matches("Rate Limited", status=400)  # every criterion must hold
    assert not rule.matches("other", status=429)
    assert Rule(dbapi.OperationalError, status=range(500, 600)).matches("x", status=502)


def test_rule_validation():
    with pytest.raises(ValueError):
        Rule(dbapi.OperationalError)
    with pytest.raises(TypeError):
        Rule(ValueError, code=1)  # type: ignore[arg-type]


def test_first_match_wins_and_default():
    mapper = ErrorMapper(
        [
            Rule(dbapi.IntegrityError, message="duplicate"),
            Rule(dbapi.DataError, message="dup"),
        ],
        default=dbapi.InternalError,
    )
    assert type(mapper.map("duplicate key")) is dbapi.IntegrityError
    assert type(mapper.map("dup")) is dbapi.DataError
    assert type(mapper.map("other")) is dbapi.InternalError
    assert type(ErrorMapper([]).map("x")) is dbapi.DatabaseError


def test_map_keeps_fields_and_redacts_message_and_payload():
    token = "cf-tok-3f9a1b2c"
    mapper = ErrorMapper(SQLITE_RULES, redactor=Redactor(token))
    payload = {
        "errors": [{"code": 7500, "message": f"bad {token}"}],
        "request": {"url": f"https://api/x?api_key={token}", "Authorization": f"Bearer {token}"},
        "success": False,
    }
    err = mapper.map(
        f"UNIQUE constraint failed: t.u ({token})", code=7500, status=400, payload=payload
    )
    assert type(err) is dbapi.IntegrityError
    assert (err.code, err.status, err.sqlstate) == (7500, 400, None)
    assert token not in str(err) and token not in repr(err.payload)
    assert err.payload["errors"][0]["code"] == 7500
    assert err.payload["success"] is False
    assert payload["errors"][0]["message"] == f"bad {token}"  # the original is not mutated


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # D1's documented texts (reference/cloudflare.md)
        (
            "UNIQUE constraint failed: t.u: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_UNIQUE)",
            dbapi.IntegrityError,
        ),
        ("statement too long: SQLITE_TOOBIG", dbapi.DataError),
        ("too many SQL variables at offset 12: SQLITE_ERROR", dbapi.OperationalError),
        ("not authorized: SQLITE_AUTH", dbapi.OperationalError),
        ("D1_ERROR: FOREIGN KEY constraint failed: SQLITE_CONSTRAINT", dbapi.IntegrityError),
        # Python sqlite3 texts without names
        ("NOT NULL constraint failed: t.a", dbapi.IntegrityError),
        ("CHECK constraint failed: positive", dbapi.IntegrityError),
        ("no such table: missing", dbapi.OperationalError),
        ("no such column: nope", dbapi.OperationalError),
        ('near "SELEC": syntax error', dbapi.OperationalError),
        ("table t already exists", dbapi.OperationalError),
        ("string or blob too big", dbapi.DataError),
        ("database is locked", dbapi.OperationalError),
        ("datatype mismatch", dbapi.DataError),
        # names only
        ("boom: SQLITE_BUSY", dbapi.OperationalError),
        ("boom: SQLITE_LOCKED_SHAREDCACHE", dbapi.OperationalError),
        ("boom: SQLITE_IOERR_SHORT_READ", dbapi.OperationalError),
        ("boom: SQLITE_MISMATCH", dbapi.DataError),
        ("boom: SQLITE_RANGE", dbapi.ProgrammingError),
        ("boom: SQLITE_INTERNAL", dbapi.InternalError),
        ("boom: SQLITE_CORRUPT", dbapi.DatabaseError),
        ("something else entirely", dbapi.DatabaseError),
    ],
)
def test_sqlite_rules(message, expected):
    assert type(ErrorMapper(SQLITE_RULES).map(message)) is expected


def test_sqlite_numeric_codes_and_explicit_names():
    mapper = ErrorMapper(SQLITE_RULES)
    assert sqlite_name(2067) == "SQLITE_CONSTRAINT_UNIQUE"
    assert sqlite_name(19) == "SQLITE_CONSTRAINT"
    assert sqlite_name(5 | (3 << 8)) == "SQLITE_BUSY"  # unknown extended -> primary
    assert type(mapper.map("x", sqlite=2067)) is dbapi.IntegrityError
    assert type(mapper.map("x", sqlite=18)) is dbapi.DataError
    assert type(mapper.map("x", sqlite="SQLITE_BUSY_SNAPSHOT")) is dbapi.OperationalError
    assert type(mapper.map("x", code="SQLITE_CONSTRAINT_NOTNULL")) is dbapi.IntegrityError


def test_backend_rules_before_sqlite_rules():
    mapper = ErrorMapper(
        [Rule(dbapi.OperationalError, code=(10000, 7404)), *SQLITE_RULES],
    )
    assert type(mapper.map("Authentication error", code=10000, status=401)) is (
        dbapi.OperationalError
    )
    assert type(mapper.map("UNIQUE constraint failed: a.b", code=7500)) is dbapi.IntegrityError


def test_map_exception_wraps_library_errors_redacted():
    mapper = ErrorMapper(SQLITE_RULES, redactor=Redactor("s3cr3t-value"))
    err = mapper.map_exception(ConnectionResetError("reset while sending s3cr3t-value"))
    assert type(err) is dbapi.OperationalError
    assert "s3cr3t-value" not in str(err)
    assert "ConnectionResetError" in str(err)
    assert type(mapper.map_exception(RuntimeError("database is locked"))) is (
        dbapi.OperationalError
    )
    assert type(mapper.map_exception(RuntimeError("UNIQUE constraint failed: t.a"))) is (
        dbapi.IntegrityError
    )


def test_with_redactor_keeps_rules():
    base = ErrorMapper(SQLITE_RULES)
    mine = base.with_redactor(Redactor("abcd1234"))
    assert mine.rules == base.rules
    assert "abcd1234" not in str(mine.map("no such table: abcd1234"))
