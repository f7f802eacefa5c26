"""TableCodec.parse: the bulk (C-loop) checks and conversions agree with the per-line rules."""

from __future__ import annotations

import json
import uuid

import pytest
from django_jsonlines_git.codec import FormatError, TableCodec


def codec() -> TableCodec:
    return TableCodec(
        "t",
        ["id", "uid", "name"],
        ["integer", "char(32)", "varchar(10)"],
        ["id"],
        0,
    )


def text(*objs: object) -> str:
    return "".join(json.dumps(o, sort_keys=True) + "\n" for o in objs)


def test_canonical_uuid_column_becomes_django_hex() -> None:
    ids = [uuid.UUID(int=n) for n in range(50)] + [uuid.uuid4() for _ in range(50)]
    src = text(*({"id": n, "uid": str(u), "name": "x"} for n, u in enumerate(ids)))
    rows, lines = codec().parse(src, "t.jsonl")
    assert [r[1] for r in rows] == [u.hex for u in ids]
    assert [r[0] for r in rows] == list(range(100))
    assert lines == src.splitlines()
    # And back: dump writes the canonical form again, byte for byte.
    assert [codec().dump(r) for r in rows] == lines


@pytest.mark.parametrize(
    "values",
    [
        [str(uuid.UUID(int=1)), None, uuid.UUID(int=3).hex],  # NULL and Django's 32 hex
        [str(uuid.UUID(int=1)), "not-a-uuid-but-36-characters-long-xx"],
        [str(uuid.UUID(int=1)).upper(), "00000000-0000-0000-0000-00000000000g"],
        [str(uuid.UUID(int=1)) + "\n" + str(uuid.UUID(int=2))],  # a newline inside a value
        [7, str(uuid.UUID(int=2))],  # a number in a char(32) column stays a number
    ],
)
def test_other_uuid_column_values_use_the_per_value_rule(values: list[object]) -> None:
    src = text(*({"id": n, "uid": v, "name": "x"} for n, v in enumerate(values)))
    rows, _ = codec().parse(src, "t.jsonl")

    def expected(v: object) -> object:
        if isinstance(v, str) and len(v) == 36 and v.count("-") == 4:
            h = v.replace("-", "")
            if all(c in "0123456789abcdefABCDEF" for c in h) and len(h) == 32:
                return h
        return v

    assert [r[1] for r in rows] == [expected(v) for v in values]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": 2, "name": "x"}', r"t\.jsonl:2: keys do not match.*missing \['uid'\]"),
        (
            '{"id": 2, "name": "x", "uid": null, "zz": 1}',
            r"t\.jsonl:2: keys do not match.*unknown \['zz'\]",
        ),
        ('{"id": 2, "nmae": "x", "uid": null}', r"t\.jsonl:2: keys do not match"),
        ("[1, 2, 3]", r"t\.jsonl:2: not a JSON object"),
        ("17", r"t\.jsonl:2: not a JSON object"),
        ('"text"', r"t\.jsonl:2: not a JSON object"),
        ("null", r"t\.jsonl:2: not a JSON object"),
        ('{"id": 2, "name": "x", "uid": nul}', r"t\.jsonl:2: not valid JSON"),
    ],
)
def test_bad_lines_are_named(line: str, message: str) -> None:
    src = text({"id": 1, "uid": None, "name": "a"}) + line + "\n"
    with pytest.raises(FormatError, match=message):
        codec().parse(src, "t.jsonl")


def test_one_column_table_and_empty_file() -> None:
    one = TableCodec("o", ["id"], ["integer"], ["id"], 0)
    rows, lines = one.parse('{"id": 1}\n{"id": 2}\n', "o.jsonl")
    assert rows == [(1,), (2,)] and len(lines) == 2
    with pytest.raises(FormatError, match=r"o\.jsonl:2: keys do not match"):
        one.parse('{"id": 1}\n{"id": 2, "x": 1}\n', "o.jsonl")
    assert codec().parse("", "t.jsonl") == ([], [])
