"""Python equivalents of Prisma's client-side id defaults (``cuid()``, ``nanoid()``, ``ulid()``).

Prisma generates these in the client, not in the database, so a Django model generated from a
schema needs callables that produce values of the same shape.
"""

from __future__ import annotations

import os
import secrets
import string
import time

_B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32 (ULID)
_B36 = string.digits + string.ascii_lowercase
_NANO = string.ascii_letters + string.digits + "_-"
_counter = int.from_bytes(os.urandom(3), "big")


def _b36(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _B36[r] + out
    return out.rjust(width, "0")[-width:]


def cuid() -> str:
    """A 25-character cuid (v1 shape: 'c' + time + counter + fingerprint + random)."""
    global _counter
    _counter = (_counter + 1) % 36**4
    fingerprint = _b36(os.getpid(), 2) + _b36(hash(os.uname().nodename) & 0xFFFFFF, 2)
    return (
        "c"
        + _b36(int(time.time() * 1000), 8)
        + _b36(_counter, 4)
        + fingerprint
        + _b36(secrets.randbits(64), 8)
    )


def nanoid(size: int = 21) -> str:
    return "".join(secrets.choice(_NANO) for _ in range(size))


def ulid() -> str:
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_B32[(value >> (5 * i)) & 31] for i in reversed(range(26)))
