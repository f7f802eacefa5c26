"""Cloudflare D1 over the D1 REST API (ENGINE ``django_d1``).

``django_d1.batch(using=None)``: a context manager whose writes are sent as one atomic batch.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def batch(using: str | None = None) -> Any:
    """Queue the writes made inside and send them as one atomic D1 batch (all or nothing)."""
    from .base import batch as _batch

    return _batch(using)


__all__ = ["batch", "__version__"]
