"""``python -m django_dbms.server --port 8788 --data ./dbms-data``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path

from .app import LocalDBMS, run
from .protocol import Registry


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m django_dbms.server",
        description="Local workers-dbms server: one SQLite file per database id.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8788)
    parser.add_argument("--data", type=Path, default=Path("./dbms-data"))
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=5.0,
        help="seconds another session waits for an open transaction before it gets an error",
    )
    parser.add_argument(
        "--access-id",
        default=os.environ.get("WORKERS_DBMS_ACCESS_ID"),
        help="require this CF-Access-Client-Id (env WORKERS_DBMS_ACCESS_ID)",
    )
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    # The secret comes from the environment only, so it never shows in `ps`.
    secret = os.environ.get("WORKERS_DBMS_ACCESS_SECRET")
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s %(message)s")
    registry = Registry(args.data, lock_timeout=args.lock_timeout)
    app = LocalDBMS(registry, access_id=args.access_id, access_secret=secret)
    try:
        asyncio.run(run(app, args.host, args.port))
    except KeyboardInterrupt:
        pass
    finally:
        registry.close()


if __name__ == "__main__":
    main()
