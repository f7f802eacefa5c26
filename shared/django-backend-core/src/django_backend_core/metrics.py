"""Round-trip accounting, one :class:`RoundTrips` per Django connection.

"Never query twice for one answer" and "batch where the protocol allows" are claims that tests
and benchmarks must be able to check, so every transport counts what it puts on the wire here.
Who counts: the transport, for everything (requests, statements, bytes, retries) — it is the
only layer that sees every round trip, including batches a schema editor sends directly.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class RoundTrips:
    """Counters of one connection's traffic.

    ``requests``: round trips (HTTP requests, websocket messages answered, driver calls);
    ``statements``: SQL/CQL statements carried by them; ``bytes_sent``/``bytes_received``:
    payload sizes as the transport sees them; ``retries``: requests sent again after a
    transient failure (also counted in ``requests``).
    """

    requests: int = 0
    statements: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    retries: int = 0

    def record(
        self,
        *,
        statements: int = 1,
        sent: int = 0,
        received: int = 0,
        requests: int = 1,
        retries: int = 0,
    ) -> None:
        """Count one round trip (or ``requests`` of them) in a single call."""
        self.requests += requests
        self.statements += statements
        self.bytes_sent += sent
        self.bytes_received += received
        self.retries += retries

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, 0)

    def snapshot(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def since(self, snapshot: dict[str, int]) -> dict[str, int]:
        """Differences from an earlier :meth:`snapshot` (what one operation cost)."""
        return {name: value - snapshot.get(name, 0) for name, value in self.snapshot().items()}
