"""params.translate / split_statements: placeholders change, nothing else does."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django_backend_core.dbapi import ProgrammingError
from django_backend_core.params import count_placeholders, scan, split_statements, translate
from hypothesis import given, settings
from hypothesis import strategies as st

# --- fragment generators --------------------------------------------------------------------
# Each fragment knows its source text and what translate must turn it into. Fragments are
# joined with single spaces, so a fragment never glues onto its neighbour (e.g. "a" + "$$").

CODE_ALPHABET = "abcxyzSELECT0123456789 ,()=<>+*\n\t."
# Text allowed inside quoted things: tricky pieces that must survive verbatim.
INNER_PIECES = ["a", "Z", " ", "%s", "%(a)s", "%", "%%", ";", "--", "/*", "*", "$", "?", "$1", "\\"]


@dataclass
class Frag:
    src: str
    expected: str
    placeholder: str | None = None  # None, "" (positional) or a name


def undouble(text: str) -> str:
    return text.replace("%%", "%")


code = st.text(CODE_ALPHABET, min_size=1, max_size=12).map(lambda t: Frag(t, t))
percent_escape = st.just(Frag("%%", "%"))
lone_percent = st.just(Frag("%", "%"))


def inner(extra: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(INNER_PIECES + extra), max_size=8).map("".join)


def quoted(open_: str, close: str, escaped_close: str | None) -> st.SearchStrategy[Frag]:
    pieces = [escaped_close] if escaped_close else []
    forbidden = close

    def make(body: str) -> Frag:
        src = f"{open_}{body}{close}"
        return Frag(src, undouble(src))

    body = inner(pieces + ["'" if close != "'" else '"', "`" if close != "`" else "x"])
    if not escaped_close:
        body = body.filter(lambda b: forbidden not in b)
    else:
        # a lone close char would end the token; only the doubled form may appear
        body = body.filter(lambda b: forbidden not in b.replace(escaped_close, ""))
    return body.map(make)


single = quoted("'", "'", "''")
double = quoted('"', '"', '""')
backtick = quoted("`", "`", "``")
bracket = quoted("[", "]", None)
line_comment = (
    inner(["'", '"'])
    .filter(lambda b: "\n" not in b)
    .map(lambda b: Frag(f"--{b}\n", undouble(f"--{b}\n")))
)
block_comment = (
    inner(["'", '"', "/"])
    # exactly one opener and one closer in the whole comment, also across the edges
    # ("/*" + "/" + "*/" would open a nested comment in PostgreSQL)
    .filter(lambda b: "/*" not in f"/*{b}*/"[1:] and f"/*{b}*/".find("*/") == len(b) + 2)
    .map(lambda b: Frag(f"/*{b}*/", undouble(f"/*{b}*/")))
)
dollar_quoted = (
    st.tuples(st.sampled_from(["", "tag", "_x1"]), inner(["'", '"']))
    .filter(lambda tb: f"${tb[0]}$" not in tb[1] and not tb[1].endswith("$"))
    .map(lambda tb: Frag(f"${tb[0]}${tb[1]}${tb[0]}$", undouble(f"${tb[0]}${tb[1]}${tb[0]}$")))
)
e_string = (
    inner(["\\'", "''", '"'])
    .filter(
        lambda b: (
            "'" not in b.replace("\\'", "").replace("''", "")
            and not b.endswith("\\")
            and "\\\\'" not in b
        )
    )
    .map(lambda b: Frag(f"E'{b}'", undouble(f"E'{b}'")))
)
cql_comment = (
    inner(["'"])
    .filter(lambda b: "\n" not in b)
    .map(lambda b: Frag(f"//{b}\n", undouble(f"//{b}\n")))
)

COMMON = [
    code,
    percent_escape,
    lone_percent,
    single,
    double,
    line_comment,
    block_comment,
    dollar_quoted,
]
BY_DIALECT = {
    "sqlite": COMMON + [backtick, bracket],
    "postgres": COMMON + [backtick, e_string],
    "cql": COMMON + [cql_comment],
}


def positional() -> st.SearchStrategy[Frag]:
    return st.just(Frag("%s", "", ""))


def named() -> st.SearchStrategy[Frag]:
    return st.sampled_from(["a", "b", "c_1"]).map(lambda n: Frag(f"%({n})s", "", n))


def expected_assembly(frags: list[Frag], style: str, values: dict[str, object] | None):
    """What translate must return, computed from the fragments (not from the lexer)."""
    out, args, numbers = [], [], {}
    counter = 0
    for f in frags:
        if f.placeholder is None:
            out.append(f.expected)
            continue
        if values is None:
            value = counter
            counter += 1
        else:
            value = values[f.placeholder]
        if style == "qmark":
            out.append("?")
            args.append(value)
        elif values is not None and f.placeholder in numbers:
            out.append(("$" if style == "dollar" else "?") + str(numbers[f.placeholder]))
        else:
            args.append(value)
            if values is not None:
                numbers[f.placeholder] = len(args)
            out.append(("$" if style == "dollar" else "?") + str(len(args)))
    return " ".join(out), args


@st.composite
def statement(draw, *, use_named: bool):
    dialect = draw(st.sampled_from(sorted(BY_DIALECT)))
    ph = named() if use_named else positional()
    frags = draw(st.lists(st.one_of(*BY_DIALECT[dialect], ph), min_size=1, max_size=14))
    style = draw(st.sampled_from(["qmark", "dollar", "numeric"]))
    return dialect, style, frags


@settings(max_examples=400, deadline=None)
@given(statement(use_named=False))
def test_translate_positional_changes_only_placeholders(case):
    dialect, style, frags = case
    sql = " ".join(f.src for f in frags)
    n = sum(f.placeholder is not None for f in frags)
    params = list(range(n))
    want_sql, want_args = expected_assembly(frags, style, None)
    got_sql, got_args = translate(sql, params, style, dialect=dialect)
    assert got_sql == want_sql
    assert got_args == want_args
    assert count_placeholders(sql, dialect) == n


@settings(max_examples=300, deadline=None)
@given(statement(use_named=True))
def test_translate_named_changes_only_placeholders(case):
    dialect, style, frags = case
    sql = " ".join(f.src for f in frags)
    values = {"a": "A", "b": 2.5, "c_1": None, "unused": 1}
    want_sql, want_args = expected_assembly(frags, style, values)
    got_sql, got_args = translate(sql, values, style, dialect=dialect)
    assert got_sql == want_sql
    assert got_args == want_args


@settings(max_examples=200, deadline=None)
@given(statement(use_named=False))
def test_params_none_leaves_sql_untouched(case):
    dialect, style, frags = case
    sql = " ".join(f.src for f in frags)
    assert translate(sql, None, style, dialect=dialect) == (sql, [])


@settings(max_examples=200, deadline=None)
@given(statement(use_named=False))
def test_scan_is_lossless(case):
    dialect, _, frags = case
    sql = " ".join(f.src for f in frags)
    assert "".join(text for _, text in scan(sql, dialect)) == sql


# --- examples ---------------------------------------------------------------------------------


def test_percent_escapes_inside_and_outside_literals():
    # Django's own LIKE patterns double the percent inside the literal.
    sql = "SELECT 1 WHERE a LIKE '%%' || %s || '%%' AND b %% 2 = 0"
    assert translate(sql, ["x"]) == ("SELECT 1 WHERE a LIKE '%' || ? || '%' AND b % 2 = 0", ["x"])


def test_placeholders_in_literals_identifiers_comments_are_text():
    sql = "SELECT '%s', \"%s\", `%s`, [%s], %s /* %s */ -- %s\n, $q$ %s $q$"
    got, args = translate(sql, [7])
    assert got == "SELECT '%s', \"%s\", `%s`, [%s], ? /* %s */ -- %s\n, $q$ %s $q$"
    assert args == [7]


def test_dollar_numbering_and_named_reuse():
    assert translate("%s, %s, %s", [1, 2, 3], "dollar") == ("$1, $2, $3", [1, 2, 3])
    assert translate("%(a)s + %(b)s + %(a)s", {"a": 1, "b": 2}, "dollar") == (
        "$1 + $2 + $1",
        [1, 2],
    )
    assert translate("%(a)s + %(b)s + %(a)s", {"a": 1, "b": 2}, "qmark") == (
        "? + ? + ?",
        [1, 2, 1],
    )
    assert translate("%(a)s, %(a)s", {"a": 1}, "numeric") == ("?1, ?1", [1])


def test_postgres_array_brackets_are_code_not_identifiers():
    assert translate("SELECT ARRAY[%s, %s]", [1, 2], "dollar") == ("SELECT ARRAY[$1, $2]", [1, 2])


def test_postgres_e_string_backslash_quote_and_nested_comment():
    sql = r"SELECT E'it\'s %s', /* a /* %s */ still comment %s */ %s"
    assert translate(sql, [1], "dollar") == (
        r"SELECT E'it\'s %s', /* a /* %s */ still comment %s */ $1",
        [1],
    )


def test_dollar_sign_in_identifier_and_positional_are_code():
    assert translate("SELECT a$b, $1, %s", [5], "dollar") == ("SELECT a$b, $1, $1", [5])


def test_inline_hook_replaces_placeholders_and_drops_params():
    def inline(v):
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else None

    assert translate("VALUES (%s, %s, %s, %s)", [1, "x", True, 2], "dollar", inline) == (
        "VALUES (1, $1, $2, 2)",
        ["x", True],
    )
    assert translate("VALUES (%s, %s)", [1, "x"], "qmark", inline) == ("VALUES (1, ?)", ["x"])


def test_adapt_order_named_inline_repeats():
    assert translate("%(n)s, %(n)s, %(s)s", {"n": 3, "s": "t"}, "dollar", lambda v: None) == (
        "$1, $1, $2",
        [3, "t"],
    )


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("SELECT %s, %s", [1]),
        ("SELECT %s", [1, 2]),
        ("SELECT 1", [1]),
        ("SELECT %(a)s", {"b": 1}),
        ("SELECT %s", {"a": 1}),
        ("SELECT %(a)s", [1]),
        ("SELECT %s", "x"),
    ],
)
def test_mismatch_raises_programming_error(sql, params):
    with pytest.raises(ProgrammingError):
        translate(sql, params)


def test_empty_params_still_undouble_percent_and_extra_mapping_keys_are_fine():
    assert translate("SELECT '100%%'", []) == ("SELECT '100%'", [])
    assert translate("SELECT %(a)s", {"a": 1, "b": 2}) == ("SELECT ?", [1])


def test_unknown_style_or_dialect():
    with pytest.raises(ValueError):
        translate("SELECT 1", [], "pyformat")
    with pytest.raises(ValueError):
        translate("SELECT 1", [], "qmark", dialect="oracle")


def test_unterminated_literal_runs_to_end():
    assert translate("SELECT 'abc %s", []) == ("SELECT 'abc %s", [])


# --- split_statements -------------------------------------------------------------------------


def test_split_respects_literals_and_comments():
    script = """
        CREATE TABLE "a;b" (x TEXT DEFAULT ';');  -- trailing; comment
        /* block; comment */ INSERT INTO "a;b" VALUES ('it''s; fine');
        ;;
        SELECT $$ ; $$;
        -- only a comment;
    """
    assert split_statements(script) == [
        "CREATE TABLE \"a;b\" (x TEXT DEFAULT ';')",
        "-- trailing; comment\n        /* block; comment */ INSERT INTO \"a;b\" VALUES ('it''s; fine')",
        "SELECT $$ ; $$",
    ]


def test_split_keeps_trigger_bodies_together():
    script = (
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = CASE WHEN 1 THEN 2 END; "
        "DELETE FROM b; END; SELECT 1"
    )
    assert split_statements(script) == [
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = CASE WHEN 1 THEN 2 END; "
        "DELETE FROM b; END",
        "SELECT 1",
    ]


def test_split_does_not_treat_begin_transaction_as_a_body():
    assert split_statements("BEGIN; INSERT INTO a VALUES (1); COMMIT;") == [
        "BEGIN",
        "INSERT INTO a VALUES (1)",
        "COMMIT",
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(code, single, double, dollar_quoted, block_comment), min_size=1, max_size=5
        )
        .map(lambda fs: "x " + " ".join(f.src for f in fs))
        .filter(lambda s: ";" not in "".join(t for k, t in scan(s) if k == "code")),
        min_size=1,
        max_size=5,
    )
)
def test_split_roundtrip(statements):
    script = ";\n".join(statements) + ";"
    assert split_statements(script) == [s.strip() for s in statements]


def test_long_sql_same_result_as_short_sql():
    # SQL longer than the cache limit takes the uncached path; results must not differ.
    row = "(%s, '%s;%%', \"c%%\", %s)"
    big = "INSERT INTO t VALUES " + ", ".join([row] * 600)
    params = list(range(1200))
    assert len(big) > 8192
    sql, args = translate(big, params, "dollar")
    first = "($1, '%s;%', \"c%\", $2)"
    assert sql.startswith("INSERT INTO t VALUES " + first + ", ($3, '%s;%'")
    assert sql.endswith("($1199, '%s;%', \"c%\", $1200)")
    assert args == params
    assert translate(big, params, "dollar") == (sql, args)  # the remembered parse
    with pytest.raises(ProgrammingError):
        translate(big, params[:-1], "dollar")


def test_sql_without_percent_is_returned_as_is():
    sql = "SELECT 'a', \"b\" -- c"
    assert translate(sql, []) == (sql, [])
    with pytest.raises(ProgrammingError):
        translate(sql, [1])
