"""pytest helpers the backends' plugins and tests build on.

Kept import-cheap: pytest is imported only when a fixture is built, because every package's
``pytest11`` plugin imports this module in every pytest run of the workspace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import quote, quote_plus

from .metrics import RoundTrips
from .secrets import Secret
from .servers import LocalServer
from .transport import Result, Statement


def _forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret)}


def assert_no_secret(text: Any, *secrets: str | Secret | None) -> None:
    """Fail if any secret (or its URL-encoded form) occurs in ``text``.

    ``text`` may be a str, bytes, an exception (its str, repr and args are checked) or any
    object (str and repr). The failure message never contains the secret itself.
    """
    if isinstance(text, bytes):
        haystacks = [text.decode("utf-8", "replace")]
    elif isinstance(text, str):
        haystacks = [text]
    else:
        haystacks = [str(text), repr(text)]
        if isinstance(text, BaseException):
            haystacks += [repr(a) for a in text.args]
            haystacks.append(repr(getattr(text, "payload", None)))
    for number, secret in enumerate(secrets, 1):
        if isinstance(secret, Secret):
            secret = secret.reveal()
        if not secret:
            continue
        for hay in haystacks:
            for form in _forms(secret):
                at = hay.find(form)
                if at >= 0:
                    context = hay[max(at - 40, 0) : at + len(form) + 40].replace(form, "<SECRET>")
                    raise AssertionError(
                        f"secret #{number} (length {len(secret)}) leaked at offset {at}: "
                        f"...{context}..."
                    )


class CaptureLogs(logging.Handler):
    """Collects formatted log records (with tracebacks) so tests can scan them for secrets."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def server_fixture(
    argv: Sequence[str],
    *,
    scope: str = "session",
    name: str | None = None,
    **server_kwargs: Any,
) -> Callable[..., Iterator[LocalServer]]:
    """Build a pytest fixture that starts a :class:`LocalServer` once per ``scope`` and stops
    it (by PID) afterwards. Use in a plugin: ``d1_server = server_fixture([...], ready=...)``.
    ``argv`` may use ``{port}``/``{host}``; ``{tmp}`` becomes a per-fixture temp directory.
    """
    import pytest

    def fixture(tmp_path_factory: Any) -> Iterator[LocalServer]:
        tmp = str(tmp_path_factory.mktemp(name or "server"))
        args = [str(a).replace("{tmp}", tmp) for a in argv]
        with LocalServer(args, name=name, **server_kwargs) as server:
            yield server

    fixture.__name__ = name or "local_server"
    return pytest.fixture(scope=scope, name=name)(fixture)  # type: ignore[call-overload]


class ScriptedTransport:
    """An in-memory Transport for unit tests of code above the transport (cursors, wrappers).

    ``respond(stmt) -> Result`` computes answers (default: an empty Result). Every call is
    recorded in ``calls`` as ``("execute", stmt)`` or ``("batch", [stmts])``, and counted in
    ``metrics`` like a real transport would (one request per call).
    """

    def __init__(self, respond: Callable[[Statement], Result] | None = None) -> None:
        self.respond = respond or (lambda stmt: Result())
        self.calls: list[tuple[str, Any]] = []
        self.metrics = RoundTrips()
        self.closed = False

    def execute(self, stmt: Statement) -> Result:
        self.calls.append(("execute", stmt))
        self.metrics.record(statements=1, sent=len(stmt.sql))
        return self.respond(stmt)

    def batch(self, stmts: Sequence[Statement]) -> list[Result]:
        self.calls.append(("batch", list(stmts)))
        self.metrics.record(statements=len(stmts), sent=sum(len(s.sql) for s in stmts))
        return [self.respond(s) for s in stmts]

    def close(self) -> None:
        self.closed = True
