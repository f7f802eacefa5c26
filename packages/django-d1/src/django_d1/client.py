"""``manage.py dbshell``: an interactive SQL prompt over the D1 REST API.

No sqlite3 binary can reach D1, so the shell runs in this process: it reads statements (ending
with ``;``), sends them through the connection's transport and prints rows as a table.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from django.db.backends.base.client import BaseDatabaseClient


class DatabaseClient(BaseDatabaseClient):
    executable_name = "d1"

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict, parameters):
        return [cls.executable_name, *parameters], None

    def runshell(self, parameters):
        return repl(self.connection, sys.stdin, sys.stdout, parameters)


def _format(rows: list[tuple[Any, ...]], columns: list[str]) -> str:
    cells = [[("NULL" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(c) for c in columns]
    for row in cells:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=False)]
    line = " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False))
    out = [line, "-+-".join("-" * w for w in widths)]
    out += [" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) for row in cells]
    return "\n".join(out)


def repl(connection: Any, stdin: TextIO, stdout: TextIO, parameters=()) -> int:
    """Read-eval-print loop; ``.quit`` or EOF leaves. Returns the number of failed statements."""
    from django.db import Error

    interactive = stdin.isatty()
    db = connection.settings_dict.get("CLOUDFLARE_DATABASE_ID")
    if interactive:
        stdout.write(
            f"D1 database {db} over the REST API. End statements with ';', .quit leaves.\n"
        )
    buf: list[str] = []
    failures = 0
    while True:
        if interactive:
            stdout.write("d1> " if not buf else "...> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        if not buf and line.strip() in (".quit", ".exit"):
            break
        if not buf and line.strip() == ".tables":
            line = "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name;"
        buf.append(line)
        text = "".join(buf).strip()
        if not text.endswith(";"):
            continue
        buf = []
        try:
            with connection.cursor() as cursor:
                cursor.execute(text)
                if cursor.description:
                    columns = [d[0] for d in cursor.description]
                    stdout.write(_format(cursor.fetchall(), columns) + "\n")
                elif cursor.rowcount >= 0:
                    stdout.write(f"OK ({cursor.rowcount} rows changed)\n")
        except Error as exc:
            failures += 1
            stdout.write(f"Error: {exc}\n")
        stdout.flush()
    return failures
