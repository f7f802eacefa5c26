"""The in-memory SQLite copy of one commit, and what changed in it since.

Change tracking: every table gets three TEMP triggers that log the rowid of each inserted,
updated or deleted row into ``temp.jlg_changes``. The log is part of the transaction, so a
ROLLBACK (or ROLLBACK TO SAVEPOINT) forgets exactly the changes it undoes, and at COMMIT the log
says which rows of which tables to re-serialise; unchanged rows keep their cached line. Tables
touched by DDL (new, re-created by Django's table remake, ALTER ... ADD/RENAME COLUMN) have no
triggers or a new CREATE text and are re-serialised whole. No table is ever diffed.

Schema: ``schema.sql`` in the repo holds sqlite_master's CREATE statements (one per line, sorted).
Rebuilding from django_migrations + models would need the app registry at connect time, could not
open an old revision whose models differ (``ref`` time travel) and would lose tables made by
RunSQL or run_syncdb; the stored DDL rebuilds exactly what Django created.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from .codec import SCHEMA_FILE, SUFFIX, FormatError, TableCodec, dump_schema, parse_schema
from .gitstore import Entry, blob_sha

_MASTER = (
    "SELECT type, name, tbl_name, sql FROM main.sqlite_master "
    "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
)
_TRIGGER_PREFIX = "jlg_"


def qn(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def raw(name: str) -> str:
    """A column read without Django's PARSE_DECLTYPES converters (unary + drops the decltype)."""
    return "+" + qn(name)


def ql(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Mirror:
    """State of the SQLite copy: which commit it holds and the serialised lines per table."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.head: str | None = None
        self.loaded = False
        self.entries: dict[str, Entry] = {}
        self.lines: dict[str, dict[int, str]] = {}  # table → rowid → line
        self.codecs: dict[str, TableCodec] = {}
        self.master: dict[str, tuple[str, str, str]] = {}  # name → (type, tbl_name, sql)
        self.schema_version = -1
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS jlg_changes (tbl TEXT NOT NULL, rid INTEGER)")

    # -- loading -----------------------------------------------------------------------------
    def sync(
        self, head: str | None, entries: dict[str, Entry], read: Callable[[bytes], bytes]
    ) -> None:
        """Make the SQLite copy equal to commit `head` (only changed tables are reloaded)."""
        if self.loaded and head == self.head:
            return
        fk = self.conn.execute("PRAGMA foreign_keys").fetchone()[0]
        qo = self.conn.execute("PRAGMA query_only").fetchone()[0]
        self.conn.execute("PRAGMA foreign_keys = OFF")
        self.conn.execute("PRAGMA query_only = OFF")
        try:
            self.conn.execute("BEGIN")
            try:
                if not self.loaded or self._blob(entries, SCHEMA_FILE) != self._blob(
                    self.entries, SCHEMA_FILE
                ):
                    self._rebuild(entries, read)
                else:
                    for table in self.tables():
                        name = table + SUFFIX
                        if self._blob(entries, name) != self._blob(self.entries, name):
                            self.conn.execute(f"DELETE FROM main.{qn(table)}")
                            self._load_table(table, entries.get(name), read)
                self._check_orphans(entries)
                self.conn.execute("DELETE FROM temp.jlg_changes")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                self.loaded = False
                raise
        finally:
            self.conn.execute(f"PRAGMA foreign_keys = {int(fk)}")
            self.conn.execute(f"PRAGMA query_only = {int(qo)}")
        self.head, self.entries, self.loaded = head, entries, True
        self._snapshot()
        self.ensure_triggers()

    @staticmethod
    def _blob(entries: dict[str, Entry], name: str) -> bytes | None:
        e = entries.get(name)
        return e.binsha if e else None

    def _check_orphans(self, entries: dict[str, Entry]) -> None:
        tables = {t.lower() for t in self.tables()}
        for name in entries:
            if name.endswith(SUFFIX) and name[: -len(SUFFIX)].lower() not in tables:
                raise FormatError(f"{name}: no table {name[: -len(SUFFIX)]!r} in {SCHEMA_FILE}")

    def _rebuild(self, entries: dict[str, Entry], read: Callable[[bytes], bytes]) -> None:
        for type_, name, _tbl, _sql in self.conn.execute(_MASTER).fetchall():
            if type_ in ("view", "table", "trigger"):
                self.conn.execute(f"DROP {type_.upper()} IF EXISTS main.{qn(name)}")
        self.lines.clear()
        self.codecs.clear()
        statements: list[str] = []
        if SCHEMA_FILE in entries:
            text = read(entries[SCHEMA_FILE].binsha).decode("utf-8")
            statements = parse_schema(text)
        later = []
        for sql in statements:
            head = sql.lstrip()[:30].upper()
            if head.startswith("CREATE TABLE"):
                try:
                    self.conn.execute(sql)
                except sqlite3.Error as exc:
                    raise FormatError(f"{SCHEMA_FILE}: {exc}: {sql[:80]!r}") from None
            else:
                later.append(sql)
        for table in self.tables():
            self._load_table(table, entries.get(table + SUFFIX), read)
        for sql in later:  # indexes, views and triggers after the data: faster, no trigger runs
            try:
                self.conn.execute(sql)
            except sqlite3.Error as exc:
                raise FormatError(f"{SCHEMA_FILE}: {exc}: {sql[:80]!r}") from None

    def _load_table(self, table: str, entry: Entry | None, read: Callable[[bytes], bytes]) -> None:
        codec = self.codec(table)
        name = table + SUFFIX
        cache: dict[int, str] = {}
        if entry is not None:
            data = read(entry.binsha)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = data[: exc.start].count(b"\n") + 1
                raise FormatError(f"{name}:{line}: not UTF-8 text") from None
            rows, lines = codec.parse(text, name)
            cols = ", ".join(qn(c) for c in codec.columns)
            marks = ", ".join("?" * len(codec.columns))
            try:
                if codec.ipk is not None:
                    self.conn.executemany(
                        f"INSERT INTO main.{qn(table)} ({cols}) VALUES ({marks})", rows
                    )
                    cache = dict(zip(map(itemgetter(codec.ipk), rows), lines, strict=True))
                else:
                    self.conn.executemany(
                        f"INSERT INTO main.{qn(table)} (rowid, {cols}) VALUES (?, {marks})",
                        [(i, *row) for i, row in enumerate(rows, 1)],
                    )
                    cache = dict(enumerate(lines, 1))
            except sqlite3.IntegrityError as exc:
                raise FormatError(f"{name}: rows violate the table's constraints: {exc}") from None
            except sqlite3.Error as exc:
                raise FormatError(f"{name}: could not load: {exc}") from None
            if len(cache) != len(lines):
                raise FormatError(f"{name}: duplicate primary key")
        self.lines[table] = cache

    # -- schema ------------------------------------------------------------------------------
    def tables(self) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT name FROM main.sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]

    def codec(self, table: str) -> TableCodec:
        codec = self.codecs.get(table)
        if codec is None:
            info = self.conn.execute(f"PRAGMA main.table_xinfo({qn(table)})").fetchall()
            sql = self.conn.execute(
                "SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()[0]
            if "WITHOUT ROWID" in sql.upper() or sql.upper().startswith("CREATE VIRTUAL"):
                raise sqlite3.NotSupportedError(
                    f"table {table!r}: WITHOUT ROWID and virtual tables cannot be stored as JSONL"
                )
            cols = [r for r in info if r[6] == 0]  # hidden 2/3 = generated: recomputed, not stored
            pk = [r[1] for r in sorted((r for r in cols if r[5]), key=lambda r: r[5])]
            ipk = None
            if len(pk) == 1:
                for i, r in enumerate(cols):
                    if r[1] == pk[0] and r[2].upper() == "INTEGER":
                        ipk = i
            codec = TableCodec(table, [r[1] for r in cols], [r[2] for r in cols], pk, ipk)
            self.codecs[table] = codec
        return codec

    def _snapshot(self) -> None:
        self.master = {
            name: (type_, tbl, sql) for type_, name, tbl, sql in self.conn.execute(_MASTER)
        }
        self.schema_version = self.conn.execute("PRAGMA main.schema_version").fetchone()[0]

    def ensure_triggers(self) -> set[str]:
        """Give every table its change-logging triggers; returns the tables that lacked them."""
        have: dict[str, str] = {
            name: tbl
            for name, tbl in self.conn.execute(
                "SELECT name, tbl_name FROM temp.sqlite_master WHERE type = 'trigger'"
            )
            if name.startswith(_TRIGGER_PREFIX)
        }
        missing = set()
        for table in self.tables():
            names = [f"{_TRIGGER_PREFIX}{op}_{table}" for op in "iud"]
            if all(have.get(n) == table for n in names):
                continue
            missing.add(table)
            for n in names:
                self.conn.execute(f"DROP TRIGGER IF EXISTS temp.{qn(n)}")
            log = f"INSERT INTO jlg_changes VALUES ({ql(table)}, %s.rowid);"
            t = f"main.{qn(table)}"
            self.conn.execute(
                f"CREATE TEMP TRIGGER {qn(names[0])} AFTER INSERT ON {t} BEGIN {log % 'NEW'} END"
            )
            self.conn.execute(
                f"CREATE TEMP TRIGGER {qn(names[1])} AFTER UPDATE ON {t} BEGIN "
                f"{log % 'OLD'} {log % 'NEW'} END"
            )
            self.conn.execute(
                f"CREATE TEMP TRIGGER {qn(names[2])} AFTER DELETE ON {t} BEGIN {log % 'OLD'} END"
            )
        for name, tbl in have.items():  # triggers left on renamed tables
            if not any(name == f"{_TRIGGER_PREFIX}{op}_{tbl}" for op in "iud"):
                self.conn.execute(f"DROP TRIGGER IF EXISTS temp.{qn(name)}")
        return missing

    # -- changes → files ---------------------------------------------------------------------
    def take_changes(self) -> tuple[dict[str, set[int]], bool]:
        """Inside the transaction: read and clear the change log; was there DDL?"""
        changed: dict[str, set[int]] = {}
        for tbl, rid in self.conn.execute("SELECT tbl, rid FROM temp.jlg_changes"):
            changed.setdefault(tbl, set()).add(rid)
        if changed:
            self.conn.execute("DELETE FROM temp.jlg_changes")
        version = self.conn.execute("PRAGMA main.schema_version").fetchone()[0]
        return changed, version != self.schema_version

    def export(
        self, changed: dict[str, set[int]], ddl: bool
    ) -> tuple[dict[str, bytes | None], dict[str, dict[int, str]], list[str], bool]:
        """After COMMIT: new file contents for changed tables (only those whose bytes differ).

        Returns (files, new line caches, summary parts, schema_changed).
        """
        files: dict[str, bytes | None] = {}
        caches: dict[str, dict[int, str]] = {}
        summary: list[str] = []
        whole: set[str] = set()
        schema_changed = False
        tables = set(self.tables())
        if ddl:
            master = {n: (t, tb, s) for t, n, tb, s in self.conn.execute(_MASTER)}
            for name, (type_, tbl, sql) in master.items():
                if type_ == "table" and self.master.get(name) != (type_, tbl, sql):
                    whole.add(name)
            self.codecs = {t: c for t, c in self.codecs.items() if t in tables and t not in whole}
            whole |= self.ensure_triggers()
            self.codecs = {t: c for t, c in self.codecs.items() if t not in whole}
            schema_text = dump_schema((t, n, tb, s) for n, (t, tb, s) in master.items())
            data = schema_text.encode("utf-8")
            old = self.entries.get(SCHEMA_FILE)
            if old is None or old.binsha != blob_sha(data):
                files[SCHEMA_FILE] = data
                schema_changed = True
            for table in self.lines:
                if table not in tables:
                    name = table + SUFFIX
                    if name in self.entries:
                        files[name] = None
                        summary.append(f"{table} (dropped)")
        for table in sorted(whole | (set(changed) & tables)):
            if "/" in table or "\\" in table or table.startswith(".") or "\0" in table:
                raise sqlite3.NotSupportedError(
                    f"table name {table!r} cannot be a file name in the repository; rename it"
                )
            if table in whole:
                lines = self._all_lines(table)
                counts = f"{len(lines)} rows, rewritten"
            else:
                lines, counts = self._patch(table, changed[table])
            data = "".join(line + "\n" for line in lines.values()).encode("utf-8")
            name = table + SUFFIX
            old = self.entries.get(name)
            caches[table] = lines  # also when the bytes are equal: a remake renumbers rowids
            if old is None or old.binsha != blob_sha(data):
                files[name] = data
                summary.append(f"{table} ({counts})")
        return files, caches, summary, schema_changed

    def _order_sql(self, codec: TableCodec, table: str, cols: str) -> str:
        order = "rowid" if codec.ipk is not None or not codec.pk else ", ".join(map(qn, codec.pk))
        return f"SELECT {cols} FROM main.{qn(table)} ORDER BY {order}"

    def _all_lines(self, table: str) -> dict[int, str]:
        codec = self.codec(table)
        sql = self._order_sql(codec, table, "rowid, " + ", ".join(map(raw, codec.columns)))
        dump = codec.dump
        return {row[0]: dump(row[1:]) for row in self.conn.execute(sql)}

    def _patch(self, table: str, rids: set[int]) -> tuple[dict[int, str], str]:
        codec = self.codec(table)
        old = self.lines.get(table, {})
        cols = ", ".join(map(raw, codec.columns))
        fresh: dict[int, str] = {}
        dump = codec.dump
        sql = (
            f"SELECT rowid, {cols} FROM main.{qn(table)} WHERE rowid IN "
            "(SELECT rid FROM temp.jlg_patch)"
        )
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS jlg_patch (rid INTEGER PRIMARY KEY)")
        self.conn.execute("DELETE FROM temp.jlg_patch")
        self.conn.executemany("INSERT INTO temp.jlg_patch VALUES (?)", [(r,) for r in rids])
        for row in self.conn.execute(sql):
            fresh[row[0]] = dump(row[1:])
        self.conn.execute("DELETE FROM temp.jlg_patch")
        order = [r[0] for r in self.conn.execute(self._order_sql(codec, table, "rowid"))]
        added = sum(1 for r in fresh if r not in old)
        updated = sum(1 for r, line in fresh.items() if r in old and old[r] != line)
        deleted = sum(1 for r in rids if r not in fresh and r in old)
        lines = {r: fresh[r] if r in fresh else old[r] for r in order}
        return lines, f"+{added} ~{updated} -{deleted}, {len(lines)} rows"

    def apply(
        self, head: str, entries: dict[str, Entry], caches: dict[str, dict[int, str]]
    ) -> None:
        """After a successful git commit: remember the new state."""
        self.lines.update(caches)
        for table in list(self.lines):
            if table + SUFFIX not in entries:
                self.lines.pop(table)
        self.head, self.entries = head, entries
        self._snapshot()

    def invalidate(self) -> None:
        """The copy may differ from HEAD (failed git write): rebuild at the next transaction."""
        self.loaded = False

    # -- helpers -----------------------------------------------------------------------------
    def dump_rows(self, table: str) -> list[dict[str, Any]]:  # pragma: no cover - debugging aid
        codec = self.codec(table)
        return [
            dict(zip(codec.columns, r, strict=True))
            for r in self.conn.execute(
                f"SELECT {', '.join(map(qn, codec.columns))} FROM main.{qn(table)}"
            )
        ]
