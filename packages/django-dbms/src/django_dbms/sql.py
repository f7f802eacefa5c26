"""How a statement must be shaped to travel through workers-dbms and come back intact.

The Worker answers with ``Object.values(row)`` of JavaScript row objects, without column
names: two result columns with the same name collapse into one, and integer-like names
(``"1"``) jump to the front. It also splits every query on ``;`` (even inside literals), and
its reply has no ``changes``/``last_insert_rowid``. :func:`analyze` reads just enough of a
statement (with the core's literal-aware scanner) to fix all three:

* unaliased items of the outermost SELECT list whose names would collide or be reordered get
  an alias, and the names Django should see are computed the way SQLite names columns;
* SQL where a ``;``-separated piece reads ``begin``/``commit``/``rollback`` (the Worker would
  intercept it, even inside a literal) is refused with a clear error;
* the statement's kind (read / DML / other) and whether it already has ``RETURNING`` decide
  how the transport obtains rowcount and lastrowid in the same round trip.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from django_backend_core import dbapi
from django_backend_core.params import scan

_TOKEN = re.compile(r"\s+|[A-Za-z_][A-Za-z0-9_$]*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+|.", re.S)
_INT_NAME = re.compile(r"^(?:0|[1-9][0-9]*)$")
_DML = {"INSERT", "UPDATE", "DELETE", "REPLACE"}
_READ = {"SELECT", "VALUES"}
_ROWS = {"PRAGMA", "EXPLAIN"}
_TX = re.compile(
    r"^\s*(?:(?P<begin>begin)(?:\s+(?:deferred|immediate|exclusive))?(?:\s+transaction)?"
    r"|(?P<commit>commit|end)(?:\s+transaction)?"
    r"|(?P<rollback>rollback)(?:\s+transaction)?"
    r"|(?P<rollback_to>rollback)(?:\s+transaction)?\s+to(?:\s+savepoint)?\s+(?P<rsp>\S+)"
    r"|(?P<savepoint>savepoint)\s+(?P<sp>\S+)"
    r"|(?P<release>release)(?:\s+savepoint)?\s+(?P<rel>\S+))\s*;?\s*$",
    re.IGNORECASE,
)
_CLAUSE_END = {
    "FROM",
    "WHERE",
    "GROUP",
    "HAVING",
    "WINDOW",
    "ORDER",
    "LIMIT",
    "UNION",
    "INTERSECT",
    "EXCEPT",
}
_NOT_ALIAS = {
    "END",
    "NULL",
    "TRUE",
    "FALSE",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "DISTINCT",
    "ALL",
}


@dataclass
class Tok:
    kind: str  # word, quoted (identifier or string), num, punct, space, comment
    text: str
    depth: int


@dataclass
class Shape:
    """What the transport needs to know about one statement."""

    kind: str  # "read" (rows, names known), "rows" (rows, names unknown), "dml", "other"
    sql: str  # possibly with aliases added
    names: list[str] = field(default_factory=list)
    returning: bool = False
    multi: bool = False
    verb: str = ""  # INSERT/UPDATE/DELETE/REPLACE for DML
    #: kind "star": ``SELECT *``/``t.*`` over these (table, alias) pairs; the transport looks
    #: the columns up and calls :func:`expand_star`.
    tables: list[tuple[str, str]] = field(default_factory=list)
    stars: list[tuple[int, int, str | None]] = field(default_factory=list)


@functools.lru_cache(maxsize=1024)
def transaction_command(sql: str) -> tuple[str, str | None] | None:
    """``("begin"|"commit"|"rollback"|"savepoint"|"release"|"rollback_to", name)`` or None."""
    m = _TX.match(sql)
    if m is None:
        return None
    for key, name_group in (
        ("begin", None),
        ("commit", None),
        ("rollback_to", "rsp"),
        ("rollback", None),
        ("savepoint", "sp"),
        ("release", "rel"),
    ):
        if m.group(key):
            return key, _unquote(m.group(name_group)) if name_group else None
    return None  # pragma: no cover


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] in '"`[' and name[-1] in '"`]':
        return name[1:-1].replace('""', '"')
    return name


def tokens(sql: str) -> list[Tok]:
    out: list[Tok] = []
    depth = 0
    for kind, text in scan(sql, "sqlite"):
        if kind == "comment":
            out.append(Tok("comment", text, depth))
            continue
        if kind == "quoted":
            out.append(Tok("quoted", text, depth))
            continue
        for m in _TOKEN.finditer(text):
            t = m.group()
            if t.isspace():
                out.append(Tok("space", t, depth))
            elif t[0].isalpha() or t[0] == "_":
                out.append(Tok("word", t, depth))
            elif t[0].isdigit() or (t[0] == "." and len(t) > 1):
                out.append(Tok("num", t, depth))
            else:
                if t == ")":
                    depth -= 1
                out.append(Tok("punct", t, depth))
                if t == "(":
                    depth += 1
    return out


def check_semicolons(sql: str, toks: list[Tok]) -> None:
    """workers-dbms splits every query on ``;`` and intercepts a piece that reads exactly
    ``begin``/``commit``/``rollback``, wherever the ``;`` is: refuse SQL that would trigger it
    by accident (a literal or comment like ``'x;commit;y'``)."""
    if ";" not in sql:
        return
    pieces = [p.strip().lower() for p in sql.split(";")]
    if any(p in ("begin", "commit", "rollback") for p in pieces):
        raise dbapi.NotSupportedError(
            "workers-dbms splits every query on ';' and would run a 'begin', 'commit' or "
            "'rollback' it finds between two ';' (here inside a literal or comment): pass the "
            "value as a query parameter, or use the transaction API (atomic())."
        )


def _significant(toks: list[Tok]) -> list[Tok]:
    return [t for t in toks if t.kind not in ("space", "comment")]


def _item_name(item: list[Tok]) -> tuple[str, bool]:
    """(SQLite's column name for the item, whether it already has an alias)."""
    sig = _significant(item)
    last = sig[-1]
    prev = sig[-2] if len(sig) > 1 else None
    is_ident = (last.kind == "word" and last.text.upper() not in _NOT_ALIAS) or (
        last.kind == "quoted" and last.text[0] in '"`['
    )
    if is_ident and prev is not None:
        if prev.kind == "word" and prev.text.upper() == "AS":
            return _unquote(last.text), True
        if prev.kind != "punct" or prev.text == ")":
            if not (prev.kind == "word" and prev.text.upper() in ("CASE", "ELSE", "THEN")):
                return _unquote(last.text), True
        if prev.kind == "punct" and prev.text == ".":
            return _unquote(last.text), False
    if is_ident and prev is None:
        return _unquote(last.text), False
    text = "".join(t.text for t in item).strip()
    return text, False


@functools.lru_cache(maxsize=1024)
def analyze(sql: str) -> Shape:
    """The statement's :class:`Shape` (cached: Django sends the same SQL text repeatedly;
    callers never mutate the result). A single trailing ``;`` is dropped so the transport
    can append to the statement."""
    shape = _analyze(sql)
    if not shape.multi:
        stripped = _TRAILING.sub("", shape.sql)
        if stripped != shape.sql:
            shape.sql = stripped
    return shape


_TRAILING = re.compile(r"\s*;\s*$")


def _analyze(sql: str) -> Shape:
    toks = tokens(sql)
    check_semicolons(sql, toks)
    sig = _significant(toks)
    statements = [t for t in sig if t.kind == "punct" and t.text == ";" and t.depth == 0]
    if statements and statements[-1] is not sig[-1] or len(statements) > 1:
        return Shape("rows", sql, multi=True)
    words = [t for t in sig if t.kind == "word" and t.depth == 0]
    if not words:
        return Shape("other", sql)
    first = words[0].text.upper()
    main = first
    if first == "WITH":
        main = next((w.text.upper() for w in words[1:] if w.text.upper() in _DML | _READ), "OTHER")
    returning = any(w.text.upper() == "RETURNING" for w in words)
    if main in _DML:
        return Shape("dml", sql, returning=returning, verb=main)
    if main in _ROWS:
        return Shape("rows", sql)
    if main == "VALUES":
        return Shape("rows", sql)
    if main != "SELECT":
        return Shape("other", sql)
    return _shape_select(sql, toks)


_JOIN_WORDS = {"JOIN", "LEFT", "RIGHT", "FULL", "INNER", "OUTER", "CROSS", "NATURAL"}
_FROM_END = _CLAUSE_END - {"FROM"} | {"ON", "USING"}


def _from_tables(toks: list[Tok], start: int) -> list[tuple[str, str]] | None:
    """``[(table, alias)]`` of a FROM clause made of plain tables (else None)."""
    if start >= len(toks) or toks[start].text.upper() != "FROM":
        return None
    tables: list[tuple[str, str]] = []
    expect_table = True
    skip_condition = False
    sig = [t for t in toks[start + 1 :] if t.kind not in ("space", "comment")]
    i = 0
    while i < len(sig):
        t = sig[i]
        word = t.text.upper() if t.kind == "word" else ""
        if t.depth != 0 and not expect_table:
            i += 1
            continue
        if t.depth == 0 and word in _CLAUSE_END - {"FROM"}:
            break
        if t.depth == 0 and (word in _JOIN_WORDS or (t.kind == "punct" and t.text == ",")):
            expect_table = word in ("JOIN",) or t.text == ","
            skip_condition = False
            i += 1
            continue
        if t.depth == 0 and word in ("ON", "USING"):
            skip_condition = True
            i += 1
            continue
        if skip_condition or t.depth != 0:
            i += 1
            continue
        if expect_table:
            if not (t.kind == "word" or (t.kind == "quoted" and t.text[0] in '"`[')):
                return None  # a subquery or table function: columns unknown here
            name = _unquote(t.text)
            alias = name
            nxt = sig[i + 1] if i + 1 < len(sig) else None
            if nxt is not None and nxt.kind == "punct" and nxt.text == ".":
                return None  # schema-qualified: keep it simple
            if nxt is not None and nxt.kind == "word" and nxt.text.upper() == "AS":
                i += 1
                nxt = sig[i + 1] if i + 1 < len(sig) else None
            if nxt is not None and (
                (nxt.kind == "word" and nxt.text.upper() not in _JOIN_WORDS | _FROM_END)
                or (nxt.kind == "quoted" and nxt.text[0] in '"`[')
            ):
                alias = _unquote(nxt.text)
                i += 1
            tables.append((name, alias))
            expect_table = False
        i += 1
    return tables or None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def expand_star(shape: Shape, columns: dict[str, list[str]]) -> Shape:
    """Rewrite the ``*`` items of a "star" shape into qualified columns, then analyze again."""
    toks: list[Tok] = shape.toks  # type: ignore[attr-defined]
    pieces = [t.text for t in toks]
    for a, b, qualifier in shape.stars:
        refs = [
            f"{_quote(alias)}.{_quote(col)}"
            for table, alias in shape.tables
            if qualifier is None or qualifier in (alias, table)
            for col in columns[table]
        ]
        if not refs:
            return Shape("rows", shape.sql)
        for k in range(a, b):
            pieces[k] = ""
        pieces[a] = " " + ", ".join(refs) + " "
    return analyze("".join(pieces))


def _shape_select(sql: str, toks: list[Tok]) -> Shape:
    # The outermost SELECT keyword (after any WITH ... AS (...) definitions).
    start = next(
        i
        for i, t in enumerate(toks)
        if t.kind == "word" and t.depth == 0 and t.text.upper() == "SELECT"
    )
    i = start + 1
    while i < len(toks) and toks[i].kind in ("space", "comment"):
        i += 1
    if i < len(toks) and toks[i].kind == "word" and toks[i].text.upper() in ("DISTINCT", "ALL"):
        i += 1
    items: list[tuple[int, int]] = []
    begin = i
    end = len(toks)
    for j in range(i, len(toks)):
        t = toks[j]
        if t.depth != 0:
            continue
        if t.kind == "punct" and t.text == ",":
            items.append((begin, j))
            begin = j + 1
        elif (t.kind == "word" and t.text.upper() in _CLAUSE_END) or (
            t.kind == "punct" and t.text == ";"
        ):
            end = j
            break
    items.append((begin, end))
    names: list[str] = []
    aliased: list[bool] = []
    star = False
    for a, b in items:
        item = toks[a:b]
        sig = _significant(item)
        if not sig:
            return Shape("rows", sql)
        if sig[-1].kind == "punct" and sig[-1].text == "*":
            star = True
            names.append("*")
            aliased.append(False)
            continue
        name, has_alias = _item_name(item)
        names.append(name)
        aliased.append(has_alias)
    if star:
        tables = _from_tables(toks, end)
        if not tables:
            return Shape("rows", sql)  # expansion unknown: names cannot be told, may collapse
        stars = []
        for a, b in items:
            sig = _significant(toks[a:b])
            if sig[-1].kind == "punct" and sig[-1].text == "*":
                qualifier = _unquote(sig[0].text) if len(sig) == 3 else None
                stars.append((a, b, qualifier))
        shape = Shape("star", sql, tables=tables, stars=stars)
        shape.toks = toks  # type: ignore[attr-defined]
        return shape
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    fix = [
        k
        for k, n in enumerate(names)
        if not aliased[k] and (seen[n] > 1 or _INT_NAME.match(n) is not None)
    ]
    if not fix:
        return Shape("read", sql, names=names)
    pieces = [t.text for t in toks]
    for k in fix:
        a, b = items[k]
        last = b - 1
        while toks[last].kind in ("space", "comment"):
            last -= 1
        pieces[last] = f'{pieces[last]} AS "_c{k}"'
    return Shape("read", "".join(pieces), names=names)
