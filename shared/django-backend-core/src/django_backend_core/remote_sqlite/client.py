"""``manage.py dbshell``: an interactive SQL prompt in this process, over the connection.

No sqlite3 binary can reach a remote SQLite, so the shell reads statements (ending with
``;``), runs them through the connection's own cursor (its transport, auth and error mapping)
and prints rows as a table. Backends name the prompt and say what the banner shows.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from django.db.backends.base.client import BaseDatabaseClient

TABLES_SQL = (
    "SELECT name FROM sqlite_master WHERE type='table' "
    "AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
    "ORDER BY name;"
)


class DatabaseClient(BaseDatabaseClient):
    #: The name dbshell reports; there is no such program; ``runshell`` runs in-process.
    executable_name = "sql"
    prompt = "sql"

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict, parameters):
        return [cls.executable_name, *parameters], None

    def banner(self) -> str:
        """What the interactive prompt prints first (never a secret)."""
        return f"{self.connection.display_name}."

    def runshell(self, parameters):
        if parameters:
            from django.core.management.base import CommandError

            raise CommandError(
                f"dbshell on {self.connection.display_name} is an in-process SQL prompt: it "
                f"takes no program arguments ({' '.join(parameters)}); type statements instead."
            )
        return repl(self.connection, sys.stdin, sys.stdout, self.prompt, self.banner())


def _format(rows: list[tuple[Any, ...]], columns: list[str]) -> str:
    cells = [[("NULL" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(c) for c in columns]
    for row in cells:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=False)]
    line = " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False))
    out = [line, "-+-".join("-" * w for w in widths)]
    out += [" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) for row in cells]
    return "\n".join(out)


def repl(
    connection: Any, stdin: TextIO, stdout: TextIO, prompt: str = "sql", banner: str = ""
) -> int:
    """Read-eval-print loop; ``.quit`` or EOF leaves, ``.tables`` lists tables.

    Returns the number of statements that failed (each error is printed, the loop goes on).
    """
    from django.db import Error

    interactive = stdin.isatty()
    if interactive:
        stdout.write(f"{banner} End statements with ';', .tables lists tables, .quit leaves.\n")
    buf: list[str] = []
    failures = 0
    while True:
        if interactive:
            stdout.write(f"{prompt}> " if not buf else "...> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        if not buf and line.strip() in (".quit", ".exit"):
            break
        if not buf and line.strip() == ".tables":
            line = TABLES_SQL
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
