"""Local CQL server: native protocol v4 over asyncio, SQLite storage, the driver's own codecs.

Run ``python -m django_astra.server --port 9042 --data ./cql-data`` (add ``--astra`` to behave as
Astra DB: Astra product type, no keyspace DDL, no writes at ONE/ANY/LOCAL_ONE).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal

from .engine import Engine
from .protocol import Server

__all__ = ["Engine", "Server", "main", "serve"]

PASSWORD_ENV = "DJANGO_ASTRA_SERVER_PASSWORD"


async def serve(
    host: str,
    port: int,
    data: str | None,
    *,
    astra: bool = False,
    username: str | None = None,
    password: str | None = None,
    secure_bundle: str | None = None,
) -> None:
    engine = Engine(data, astra=astra)
    server = Server(engine, username=username, password=password)
    srv = await asyncio.start_server(server.handle, host, port, reuse_address=True)
    extra: list[asyncio.AbstractServer] = []
    if secure_bundle:
        from . import bundle

        extra = await bundle.start(
            server.handle, secure_bundle, str(engine.host_id), "default_keyspace"
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    mode = "astra" if astra else "cassandra"
    logging.getLogger("django_astra.server").info(
        "CQL server (%s mode) listening on %s:%s", mode, host, port
    )
    await stop.wait()
    srv.close()
    for other in extra:
        other.close()
    for conn in list(server.connections):
        conn.writer.close()
    try:
        await asyncio.wait_for(srv.wait_closed(), 2)
    except TimeoutError:
        pass
    engine.db.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m django_astra.server", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9042)
    ap.add_argument("--data", default=None, help="directory for cql.sqlite3 (default: in memory)")
    ap.add_argument("--astra", action="store_true", help="behave as Astra DB")
    ap.add_argument("--username", default=None, help="require PlainText auth with this user")
    ap.add_argument(
        "--secure-bundle",
        default=None,
        metavar="PATH",
        help="also serve CQL over TLS + an HTTPS metadata endpoint, and write a secure connect bundle zip here",
    )
    ap.add_argument(
        "--password-env",
        default=PASSWORD_ENV,
        help=f"environment variable holding the password (default {PASSWORD_ENV}); never on the command line",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    password = os.environ.get(args.password_env) if args.username else None
    if args.username and password is None:
        ap.error(f"--username needs the password in ${args.password_env}")
    asyncio.run(
        serve(
            args.host,
            args.port,
            args.data,
            astra=args.astra,
            username=args.username,
            password=password,
            secure_bundle=args.secure_bundle,
        )
    )
