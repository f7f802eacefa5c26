"""A local stand-in for Astra's secure connect bundle, so the driver's ``cloud=`` path is tested.

``--secure-bundle PATH`` makes a throwaway CA, server and client certificates (with the
``openssl`` command), serves ``GET /metadata`` over HTTPS the way Astra's metadata service
does, accepts CQL over TLS (client certificate required) on the SNI proxy port, and writes a
zip with ``config.json``, ``ca.crt``, ``cert`` and ``key`` for
``Cluster(cloud={"secure_connect_bundle": PATH})``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from django_backend_core.servers import free_port


def _openssl(*args: str, cwd: Path) -> None:
    exe = shutil.which("openssl")
    if exe is None:
        raise RuntimeError("--secure-bundle needs the openssl command to make certificates")
    subprocess.run([exe, *args], cwd=cwd, check=True, capture_output=True)


def make_certs(work: Path) -> None:
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "3",
        "-subj",
        "/CN=django-astra local CA",
        cwd=work,
    )
    (work / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        _openssl(
            "req",
            *ec,
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            f"/CN={name}",
            cwd=work,
        )
        _openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "3", "-extfile", "san.cnf", cwd=work,
        )  # fmt: skip


def server_context(work: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(work / "server.crt", work / "server.key")
    ctx.load_verify_locations(work / "ca.crt")
    ctx.verify_mode = ssl.CERT_REQUIRED  # Astra requires the bundle's client certificate
    return ctx


def write_bundle(work: Path, path: Path, *, metadata_port: int, keyspace: str) -> None:
    config = {
        "host": "127.0.0.1",
        "port": metadata_port,
        "keyspace": keyspace,
        "localDC": "datacenter1",
        "caCertLocation": "./ca.crt",
        "keyLocation": "./key",
        "certLocation": "./cert",
    }
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as z:
        z.writestr("config.json", json.dumps(config))
        z.write(work / "ca.crt", "ca.crt")
        z.write(work / "client.crt", "cert")
        z.write(work / "client.key", "key")
    os.replace(tmp, path)  # appears complete or not at all


async def start(
    handler: Any, bundle: str, host_id: str, keyspace: str
) -> list[asyncio.AbstractServer]:
    """Start the TLS CQL (SNI proxy) and HTTPS metadata listeners; write the bundle last."""
    work = Path(tempfile.mkdtemp(prefix="astra-scb-"))
    make_certs(work)
    ctx = server_context(work)
    cql_port, meta_port = free_port(), free_port()
    cql = await asyncio.start_server(handler, "127.0.0.1", cql_port, ssl=ctx)
    body = json.dumps(
        {
            "version": 1,
            "region": "local",
            "contact_info": {
                "type": "sni_proxy",
                "local_dc": "datacenter1",
                "contact_points": [host_id],
                "sni_proxy_address": f"127.0.0.1:{cql_port}",
            },
        }
    ).encode()

    async def metadata(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            ok = request.split(b" ", 2)[1:2] == [b"/metadata"]
            status = b"200 OK" if ok else b"404 Not Found"
            payload = body if ok else b"{}"
            writer.write(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(payload)).encode() + b"\r\nConnection: close\r\n\r\n" + payload
            )  # fmt: skip
            await writer.drain()
        except (
            asyncio.IncompleteReadError,
            ConnectionError,
            ssl.SSLError,
            asyncio.LimitOverrunError,
        ):
            pass
        finally:
            writer.close()

    meta = await asyncio.start_server(metadata, "127.0.0.1", meta_port, ssl=ctx)
    write_bundle(work, Path(bundle), metadata_port=meta_port, keyspace=keyspace)
    return [cql, meta]
