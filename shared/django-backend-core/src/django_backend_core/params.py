"""Django's ``format`` parameters to the store's placeholder style, SQL-literal aware.

Django writes ``%s`` (sequence params) or ``%(name)s`` (mapping params) and doubles literal
percent signs (``LIKE '%%' || %s``). Stores want ``?``, ``$1..$n`` or ``?NNN``. A regex
replace would also rewrite ``%s`` inside string literals, quoted identifiers and comments, so
this module lexes the SQL once (cached) and only touches placeholders in code:

* placeholders (``%s``, ``%(name)s``) are recognised in code only; inside literals,
  identifiers, comments and ``$tag$`` bodies a ``%s`` is text;
* ``%%`` becomes ``%`` everywhere (Django doubles it inside literals too, e.g. ``'%%'``);
* a lone ``%`` (``a % b``) is left alone;
* ``params=None`` means "not a format string": the SQL is returned untouched (Django's rule).

Dialects only change the lexing: ``sqlite`` knows ``[ident]``; ``postgres`` knows ``E'\\''``
strings and nested ``/* */`` comments; ``cql`` knows ``//`` comments. All know ``'..'``,
``".."``, ``-- ..``, ``/* .. */`` and ``$tag$..$tag$``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from .dbapi import ProgrammingError

STYLES = ("qmark", "dollar", "numeric")
DIALECTS = ("sqlite", "postgres", "cql")

_DEFAULT_DIALECT = {"qmark": "sqlite", "numeric": "sqlite", "dollar": "postgres"}

_STARTS = {
    "sqlite": re.compile(r"['\"`\[$]|--|/\*"),
    "postgres": re.compile(r"(?<![\w$])[Ee]'|['\"`$]|--|/\*"),
    "cql": re.compile(r"['\"$]|--|//|/\*"),
}
_QUOTED = {
    "'": re.compile(r"'[^']*(?:''[^']*)*'?"),
    '"': re.compile(r'"[^"]*(?:""[^"]*)*"?'),
    "`": re.compile(r"`[^`]*(?:``[^`]*)*`?"),
    "[": re.compile(r"\[[^\]]*\]?"),
    "E'": re.compile(r"[Ee]'(?:[^'\\]|\\.|'')*'?", re.DOTALL),
}
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\uffff][\w\x80-\uffff]*)?\$")
_BLOCK_EDGE = re.compile(r"/\*|\*/")
_PERCENT = re.compile(r"%(?:(%)|(s)|\(([^)]*)\)s)")
_WORD = re.compile(r"[A-Za-z_]+")


def check_style(style: str) -> None:
    if style not in STYLES:
        raise ValueError(f"unknown placeholder style {style!r}; expected one of {STYLES}")


def _is_ident_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_$"


def scan(sql: str, dialect: str = "sqlite") -> Iterator[tuple[str, str]]:
    """Yield ``(kind, text)`` pieces: kind is ``code``, ``quoted`` or ``comment``.

    Joining the texts gives back ``sql`` exactly. Unterminated quotes/comments run to the end
    (the server reports the syntax error, not us).
    """
    starts = _STARTS[dialect]
    pos, n = 0, len(sql)
    while pos < n:
        m = starts.search(sql, pos)
        if m is None:
            yield "code", sql[pos:]
            return
        start = m.start()
        if start > pos:
            yield "code", sql[pos:start]
        tok = m.group()
        if tok == "$":
            dm = _DOLLAR_TAG.match(sql, start)
            if dm is None or (start > 0 and _is_ident_char(sql[start - 1])):
                yield "code", "$"
                pos = start + 1
                continue
            tag = dm.group()
            close = sql.find(tag, dm.end())
            end = n if close == -1 else close + len(tag)
            yield "quoted", sql[start:end]
        elif tok in ("--", "//"):
            nl = sql.find("\n", start)
            end = n if nl == -1 else nl
            yield "comment", sql[start:end]
        elif tok == "/*":
            end = _block_comment_end(sql, start, nested=dialect == "postgres")
            yield "comment", sql[start:end]
        else:
            key = "E'" if tok[0] in "Ee" else tok
            qm = _QUOTED[key].match(sql, start)
            assert qm is not None
            end = qm.end()
            yield "quoted", sql[start:end]
        pos = end


def _block_comment_end(sql: str, start: int, *, nested: bool) -> int:
    if not nested:
        close = sql.find("*/", start + 2)
        return len(sql) if close == -1 else close + 2
    depth, i = 1, start + 2
    while depth:
        m = _BLOCK_EDGE.search(sql, i)
        if m is None:
            return len(sql)
        depth += 1 if m.group() == "/*" else -1
        i = m.end()
    return i


class _Parsed:
    """SQL as ``texts[0] ph[0] texts[1] ph[1] ... texts[-1]`` (``%%`` already undoubled);
    ``names[i]`` is None for ``%s`` or the name of ``%(name)s``."""

    __slots__ = ("texts", "names", "positional", "named")

    def __init__(self, texts: list[str], names: list[str | None]) -> None:
        self.texts = tuple(texts)
        self.names = tuple(names)
        self.positional = sum(1 for n in names if n is None)
        self.named = len(names) - self.positional


_CACHE_LIMIT = 8192  # longer SQL (bulk inserts) is not kept in the LRU cache...
_last_big: list[tuple[str, str, _Parsed]] = []  # ...only the last one (executemany reuse)


def _parse(sql: str, dialect: str) -> _Parsed:
    """Lex once per distinct SQL text (Django repeats its statements)."""
    if len(sql) <= _CACHE_LIMIT:
        return _parse_cached(sql, dialect)
    last = _last_big[:1]
    if last and last[0][0] == sql and last[0][1] == dialect:
        return last[0][2]
    parsed = _parse_uncached(sql, dialect)
    _last_big[:] = [(sql, dialect, parsed)]
    return parsed


def _parse_uncached(sql: str, dialect: str) -> _Parsed:
    if "%" not in sql:
        return _Parsed([sql], [])
    texts: list[str] = []
    names: list[str | None] = []
    buf: list[str] = []
    for kind, text in scan(sql, dialect):
        if kind != "code":
            buf.append(text.replace("%%", "%") if "%%" in text else text)
            continue
        if "%" not in text:
            buf.append(text)
            continue
        pos = 0
        for m in _PERCENT.finditer(text):
            buf.append(text[pos : m.start()])
            pos = m.end()
            if m.group(1):
                buf.append("%")
            else:
                texts.append("".join(buf))
                buf = []
                names.append(m.group(3))
        buf.append(text[pos:])
    texts.append("".join(buf))
    return _Parsed(texts, names)


_parse_cached = lru_cache(maxsize=1024)(_parse_uncached)


def _mismatch(used: int, given: int) -> ProgrammingError:
    return ProgrammingError(
        f"Incorrect number of bindings supplied: the statement uses {used}, {given} supplied."
    )


def translate(
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] | None,
    style: str = "qmark",
    inline: Callable[[Any], str | None] | None = None,
    *,
    dialect: str | None = None,
) -> tuple[str, list[Any]]:
    """Return ``(sql_in_style, params_in_order)``.

    ``style``: ``qmark`` (``?``), ``dollar`` (``$1``; a named parameter used twice gets the
    same number) or ``numeric`` (``?1``, same numbering as dollar). ``inline(value)`` may
    return a SQL literal to put in place of the placeholder (the value is then not sent);
    returning None binds it normally. Raises ProgrammingError when placeholders and params
    do not match.
    """
    if params is None:
        return sql, []
    check_style(style)
    if dialect is None:
        dialect = _DEFAULT_DIALECT[style]
    elif dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; expected one of {DIALECTS}")
    if isinstance(params, str | bytes):
        raise ProgrammingError("params must be a sequence or mapping, not a string")
    parsed = _parse(sql, dialect)
    texts, names = parsed.texts, parsed.names
    mark = "$" if style == "dollar" else "?"

    if not isinstance(params, Mapping):
        if parsed.named:
            first = next(n for n in names if n is not None)
            raise ProgrammingError(
                f"The statement uses %({first})s but parameters were given as a sequence."
            )
        if len(names) != len(params):
            raise _mismatch(len(names), len(params))
        if not names:
            return texts[0], []
        if inline is None:  # the common case: no per-value work
            if style == "qmark":
                return "?".join(texts), list(params)
            out = [texts[0]]
            for i, text in enumerate(texts[1:], 1):
                out.append(f"{mark}{i}")
                out.append(text)
            return "".join(out), list(params)
        out = [texts[0]]
        args: list[Any] = []
        for value, text in zip(params, texts[1:], strict=True):
            literal = inline(value)
            if literal is not None:
                out.append(literal)
            else:
                args.append(value)
                out.append("?" if style == "qmark" else f"{mark}{len(args)}")
            out.append(text)
        return "".join(out), args

    if parsed.positional:
        raise ProgrammingError(
            "The statement uses %s placeholders but parameters were given as a mapping."
        )
    out = [texts[0]]
    args = []
    numbers: dict[str, int] = {}
    for name, text in zip(names, texts[1:], strict=True):
        assert name is not None
        try:
            value = params[name]
        except KeyError:
            raise ProgrammingError(
                f"The statement uses %({name})s but no parameter named {name!r} was given."
            ) from None
        literal = inline(value) if inline is not None else None
        if literal is not None:
            out.append(literal)
        elif style == "qmark":
            args.append(value)
            out.append("?")
        else:
            if name not in numbers:
                args.append(value)
                numbers[name] = len(args)
            out.append(f"{mark}{numbers[name]}")
        out.append(text)
    return "".join(out), args


def count_placeholders(sql: str, dialect: str = "sqlite") -> int:
    """Number of ``%s``/``%(name)s`` placeholders in code (not in literals or comments)."""
    return len(_parse(sql, dialect).names)


def split_statements(sql: str, dialect: str = "sqlite") -> list[str]:
    """Split a script on top-level ``;`` (not inside literals, identifiers or comments).

    Statements are stripped; empty ones and ones holding only comments are dropped. The
    ``;`` inside ``CREATE TRIGGER ... BEGIN ...; END`` bodies do not split. No parameter
    processing happens here.
    """
    statements: list[str] = []
    current: list[str] = []
    meaningful = False
    words: list[str] = []  # first words of the current statement (trigger detection)
    depth = 0  # BEGIN/CASE ... END nesting inside a trigger body

    def flush() -> None:
        nonlocal meaningful, depth
        text = "".join(current).strip()
        if text and meaningful:
            statements.append(text)
        current.clear()
        words.clear()
        meaningful = False
        depth = 0

    for kind, text in scan(sql, dialect):
        if kind != "code":
            current.append(text)
            meaningful = meaningful or kind == "quoted"
            continue
        pos = 0
        for i, ch in enumerate(text):
            if ch != ";":
                continue
            chunk = text[pos:i]
            depth = _track_trigger(chunk, words, depth)
            current.append(chunk)
            meaningful = meaningful or bool(chunk.strip())
            pos = i + 1
            if depth > 0:
                current.append(";")
                continue
            flush()
        chunk = text[pos:]
        depth = _track_trigger(chunk, words, depth)
        current.append(chunk)
        meaningful = meaningful or bool(chunk.strip())
    flush()
    return statements


def _track_trigger(code: str, words: list[str], depth: int) -> int:
    """Update BEGIN/END depth when the statement is a CREATE TRIGGER."""
    for m in _WORD.finditer(code):
        word = m.group().upper()
        if len(words) < 4:
            words.append(word)
        if "TRIGGER" not in words[:4] or words[0] != "CREATE":
            continue
        if word in ("BEGIN", "CASE"):
            depth += 1
        elif word == "END":
            depth = max(depth - 1, 0)
    return depth


def quote_literal(value: Any) -> str:
    """A SQL literal for display (``connection.queries``, ``last_executed_query``).

    Never used to build SQL that is sent: params are always bound (or inlined by a backend's
    own ``inline`` hook, which knows the store's rules).
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"X'{bytes(value).hex()}'"
    return "'" + str(value).replace("'", "''") + "'"


def render(
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] | None,
    *,
    dialect: str = "sqlite",
    quote: Callable[[Any], str] = quote_literal,
) -> str:
    """``sql`` with its placeholders replaced by literals, for humans; computed locally so
    logging a query never costs a round trip (Django's sqlite3 backend asks the server)."""
    if params is None:
        return sql
    try:
        return translate(sql, params, "qmark", quote, dialect=dialect)[0]
    except ProgrammingError:
        return f"{sql} -- params: {params!r}"
