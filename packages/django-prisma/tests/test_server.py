"""The local-server harness: several @prisma/dev instances boot at once and all stop by PID."""

from __future__ import annotations

import os

import pytest
from django_prisma.server import NodeUnavailable, start_servers


def test_start_servers_boots_in_parallel_on_distinct_ports_and_stops_all():
    try:
        with start_servers(2) as servers:
            ports = [p for s in servers for p in (s.port, s.db_port, s.shadow_port, s.streams_port)]
            assert len(set(ports)) == 8
            assert [s.execute(f"SELECT {i}").rows for i, s in enumerate(servers)] == [
                [(0,)],
                [(1,)],
            ]
            pids = [s.pid for s in servers]
    except NodeUnavailable as exc:
        pytest.skip(str(exc))
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
