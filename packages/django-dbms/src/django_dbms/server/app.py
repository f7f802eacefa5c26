"""The network side of the local workers-dbms server (``websockets`` asyncio server).

Routes, as the Worker has them:

* ``GET /api/v1/databases/{id}/websocket`` with ``Upgrade: websocket``: the message protocol
  (426 without the upgrade header, 400 for an id that breaks the Worker's rule);
* ``POST /api/v1/databases/{id}/query`` with ``{query, arguments, arrayMode}``: one call of the
  DO's ``sql()`` (no ``;`` interception), ``500 {"success": false, "error": ...}`` on failure.

``websockets`` only parses GET requests, so each connection sniffs its first bytes: a ``POST``
is answered here (one request per connection, ``Connection: close``), anything else is fed to
the websocket handshake unchanged.
"""

from __future__ import annotations

import asyncio
import hmac
import http
import json
import logging
import re
import uuid
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .protocol import Aborted, DOError, DOReset, Registry, valid_database_id

log = logging.getLogger("django_dbms.server")

WS_PATH = re.compile(r"^/api/v1/databases/([^/?]+)/websocket(?:\?.*)?$")
QUERY_PATH = re.compile(r"^/api/v1/databases/([^/?]+)/query(?:\?.*)?$")
MAX_BODY = 8 * 1024 * 1024


def _response(status: int, body: Any, content_type: str = "application/json") -> Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(data)))])
    return Response(status, http.HTTPStatus(status).phrase, headers, data)


def _id_error(database_id: str) -> dict[str, Any]:
    """The shape chanfana/zod gives a failed path parameter."""
    return {
        "errors": [
            {
                "code": "invalid_string",
                "message": "Invalid",
                "path": ["params", "database_id"],
                "value": database_id,
            }
        ],
        "success": False,
        "result": {},
    }


class LocalDBMS:
    """Holds the databases and the optional Access credentials; builds the handlers."""

    def __init__(
        self,
        registry: Registry,
        *,
        access_id: str | None = None,
        access_secret: str | None = None,
    ) -> None:
        self.registry = registry
        self.access_id = access_id
        self.access_secret = access_secret

    # -- Access check ---------------------------------------------------------------------
    def access_denied(self, headers: Headers) -> Response | None:
        """Cloudflare Access in front of the Worker: both headers must match, else 403."""
        if not self.access_id and not self.access_secret:
            return None
        got_id = headers.get("CF-Access-Client-Id", "")
        got_secret = headers.get("CF-Access-Client-Secret", "")
        if hmac.compare_digest(got_id, self.access_id or "") and hmac.compare_digest(
            got_secret, self.access_secret or ""
        ):
            return None
        return _response(403, b"Forbidden: Cloudflare Access denied this request", "text/plain")

    # -- websocket ------------------------------------------------------------------------
    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        match = WS_PATH.match(request.path)
        if match is None:
            return _response(404, {"success": False, "error": "Not Found"})
        database_id = match.group(1)
        if not valid_database_id(database_id):
            return _response(400, _id_error(database_id))
        denied = self.access_denied(request.headers)
        if denied is not None:
            return denied
        # The Worker enables (creates) the database before it checks the upgrade header.
        self.registry.open(database_id, create=True)
        if request.headers.get("Upgrade") != "websocket":
            return _response(426, b"Durable Object expected Upgrade: websocket", "text/plain")
        return None

    async def handler(self, ws: ServerConnection) -> None:
        match = WS_PATH.match(ws.request.path if ws.request else "")
        assert match is not None
        db = self.registry.open(match.group(1), create=True)
        assert db is not None
        session = uuid.uuid4().hex
        db.sockets[session] = ws
        try:
            async for message in ws:
                reply, abort = await self.on_message(db, session, message)
                if reply is not None:
                    await ws.send(reply)
                if abort:
                    # ctx.abort(): the object restarts and every socket breaks (no close frame).
                    for other in list(db.sockets.values()):
                        other.transport.close()
                    db.sockets.clear()
                    return
        except ConnectionClosed:
            pass
        finally:
            db.sockets.pop(session, None)
            await db.abandon(session)

    async def on_message(self, db: Any, session: str, message: Any) -> tuple[str | None, bool]:
        """One frame in, at most one frame out (unknown types throw in the DO: no reply)."""
        try:
            msg = json.loads(message)
            if msg.get("type") != "request":
                raise ValueError(f"Unknown message.type: {msg.get('type')}")
            request = msg["request"]
            if request.get("type") != "execute":
                raise ValueError(f"Unknown message.request.type: {request.get('type')}")
            stmt = request["stmt"]
        except Exception as exc:
            log.warning("dropped a frame the DO would throw on: %s", exc)
            return None, False
        try:
            result, abort = await db.execute(session, stmt.get("query"), stmt.get("arguments"))
        except Aborted:
            return None, False
        except DOError as exc:
            return json.dumps({"type": "response_error", "error": str(exc)}), False
        except DOReset as exc:
            return json.dumps({"type": "response_error", "error": str(exc)}), True
        except Exception as exc:  # pragma: no cover - a server bug must not kill the socket
            log.exception("request failed")
            return json.dumps({"type": "response_error", "error": f"Error: {exc}"}), False
        return json.dumps({"type": "execute", "result": result}), abort

    # -- HTTP /query ----------------------------------------------------------------------
    async def http_query(self, head: bytes, body: bytes) -> Response:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        path = parts[1] if len(parts) > 1 else ""
        headers = Headers()
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip()] = v.strip()
        match = QUERY_PATH.match(path)
        if match is None:
            return _response(404, {"success": False, "error": "Not Found"})
        database_id = match.group(1)
        if not valid_database_id(database_id):
            return _response(400, _id_error(database_id))
        denied = self.access_denied(headers)
        if denied is not None:
            return denied
        try:
            data = json.loads(body or b"null")
            if not isinstance(data, dict) or not isinstance(data.get("query"), str):
                raise ValueError("query must be a string")
        except ValueError as exc:
            return _response(400, {"success": False, "errors": [{"message": str(exc)}]})
        db = self.registry.open(database_id, create=False)
        try:
            if db is None:
                raise DOError("This database doesn't exist")
            result, _ = await db.execute(
                None,
                data["query"],
                data.get("arguments"),
                intercept=False,
                array_mode=data.get("arrayMode") is True,
            )
        except DOError as exc:
            return _response(500, {"success": False, "error": exc.args[0]})
        except (Aborted, DOReset):
            return _response(500, {"success": False, "error": "The Durable Object was reset."})
        return _response(200, result)


class _Connection(ServerConnection):
    """A ServerConnection that answers a plain HTTP ``POST`` itself (websockets parses GET only)."""

    app: LocalDBMS

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._sniff = b""
        self._mode: str | None = None

    def data_received(self, data: bytes) -> None:
        if self._mode == "ws":
            return super().data_received(data)
        self._sniff += data
        if self._mode is None:
            if len(self._sniff) < 5 and b"POST ".startswith(self._sniff):
                return None
            self._mode = "http" if self._sniff.startswith(b"POST ") else "ws"
            if self._mode == "ws":
                buffered, self._sniff = self._sniff, b""
                return super().data_received(buffered)
        head_end = self._sniff.find(b"\r\n\r\n")
        if head_end < 0:
            if len(self._sniff) > 65536:
                self.transport.close()
            return None
        head = self._sniff[:head_end]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or 0)
        if length > MAX_BODY:
            self._write(_response(413, {"success": False, "error": "body too large"}))
            return None
        body = self._sniff[head_end + 4 :]
        if len(body) < length:
            return None
        self._mode = "done"
        asyncio.get_running_loop().create_task(self._answer(head, body[:length]))
        return None

    async def _answer(self, head: bytes, body: bytes) -> None:
        try:
            response = await self.app.http_query(head, body)
        except Exception:  # pragma: no cover - a bug in the server itself
            log.exception("HTTP /query failed")
            response = _response(500, {"success": False, "error": "internal error"})
        self._write(response)

    def _write(self, response: Response) -> None:
        response.headers["Connection"] = "close"
        status = f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n".encode()
        self.transport.write(status + response.headers.serialize() + (response.body or b""))
        self.transport.close()


async def run(app: LocalDBMS, host: str, port: int, ready: asyncio.Event | None = None) -> None:
    """Serve until cancelled."""

    class Connection(_Connection):
        pass

    Connection.app = app
    async with serve(
        app.handler,
        host,
        port,
        process_request=app.process_request,
        create_connection=Connection,
        compression=None,
        max_size=16 * 1024 * 1024,
        ping_interval=None,
    ) as server:
        log.info(
            "workers-dbms local server on ws://%s:%d/api/v1/databases/{id}/websocket", host, port
        )
        if ready is not None:
            ready.set()
        await server.serve_forever()
