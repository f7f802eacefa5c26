"""Conformance plugin: django-jsonlines-git (write engine on both aliases; no server needed)."""

from __future__ import annotations

import contextlib
import pathlib
from collections.abc import Iterator
from typing import Any

PACKAGES: list[str] = ["shared/django-backend-core", "packages/django-jsonlines-git"]
# Test repositories are directories; the creation class clones them with copytree.
PARALLEL = 2


@contextlib.contextmanager
def configure(workdir: pathlib.Path) -> Iterator[dict[str, Any]]:
    """Two write-engine aliases, each with its own repository under the work directory."""
    data = workdir / "jsonlines-git"
    data.mkdir(parents=True, exist_ok=True)
    opts = {"author": "Django test suite <tests@localhost>", "lock_timeout": 30}
    yield {
        "DATABASES": {
            "default": {
                "ENGINE": "django_jsonlines_git.write",
                "NAME": str(data / "default"),
                "OPTIONS": opts,
            },
            "other": {
                "ENGINE": "django_jsonlines_git.write",
                "NAME": str(data / "other"),
                "OPTIONS": opts,
            },
        }
    }
