"""Django test-suite expectations for django_d1, each with its reason (used by features.py)."""

from __future__ import annotations

#: Tests that fail on D1 for a documented reason.
EXPECTED_FAILURES: set[str] = set()

#: reason -> tests skipped on D1.
SKIPS: dict[str, set[str]] = {}
