"""The work a task can do. A handler takes the payload and returns a JSON-able result."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.utils import timezone

HANDLERS: dict[str, Callable[[dict[str, Any], int], Any]] = {}


def handler(kind: str):
    def register(fn):
        HANDLERS[kind] = fn
        return fn

    return register


@handler("publish_post")
def publish_post(payload: dict[str, Any], attempt: int) -> Any:
    from blog.models import Post

    post = Post.objects.get(pk=payload["post_id"])
    post.published_at = post.published_at or timezone.now()
    post.save(update_fields=["published_at", "updated_at"])
    return {"published": post.slug}


@handler("notify")
def notify(payload: dict[str, Any], attempt: int) -> Any:
    """Stand-in for sending an e-mail (``work_seconds`` simulates the time it takes)."""
    time.sleep(float(payload.get("work_seconds", 0)))
    return {"sent_to": payload.get("to", "nobody")}


@handler("flaky")
def flaky(payload: dict[str, Any], attempt: int) -> Any:
    """Fails its first ``fail_times`` attempts: shows the retry path."""
    if attempt <= int(payload.get("fail_times", 1)):
        raise RuntimeError(f"flaky task failed on attempt {attempt}")
    return {"succeeded_on_attempt": attempt}


@handler("always_fail")
def always_fail(payload: dict[str, Any], attempt: int) -> Any:
    raise RuntimeError("this task always fails")
