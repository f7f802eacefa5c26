"""A raw workers-dbms client (frames by hand) for tests and benchmarks."""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import connect


class Raw:
    """The workers-dbms frames, sent by hand (no django_dbms code involved)."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.ws = connect(url, additional_headers=headers, proxy=None, compression=None)
        self.ws.pending_legacy_warning = False

    def send(self, query: str, arguments: list[Any] | None = None) -> dict[str, Any]:
        self.ws.send(
            json.dumps(
                {
                    "type": "request",
                    "request": {
                        "type": "execute",
                        "stmt": {"query": query, "arguments": arguments},
                    },
                }
            )
        )
        return json.loads(self.ws.recv(timeout=10))

    def rows(self, query: str, arguments: list[Any] | None = None) -> list[list[Any]]:
        reply = self.send(query, arguments)
        assert reply["type"] == "execute", reply
        return reply["result"]["results"]

    def close(self) -> None:
        self.ws.close()
