"""Sample content, and the bulk-insert demonstration."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import connections, router
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import PageView
from blogproject.dbstats import round_trips

from .models import Author, Comment, Post, Tag

AUTHORS = [("Ada Lovelace", "ada"), ("Grace Hopper", "grace"), ("Edsger Dijkstra", "edsger")]
TAGS = ["django", "databases", "sqlite", "edge", "python"]


def load_sample_data(posts: int = 12, comments_per_post: int = 2) -> dict[str, int]:
    """Create authors, tags, posts and comments one by one (so the audit log sees them).

    Idempotent: does nothing if posts already exist.
    """
    if Post.objects.exists():
        return {"posts": 0, "comments": 0}
    authors = [Author.objects.create(name=n, slug=s, bio=f"{n} writes here.") for n, s in AUTHORS]
    tags = [Tag.objects.create(name=t, slug=t) for t in TAGS]
    now = timezone.now()
    created_comments = 0
    for i in range(posts):
        post = Post.objects.create(
            title=f"Post number {i + 1}",
            slug=f"post-{i + 1}",
            author=authors[i % len(authors)],
            body=f"This is post {i + 1}.\n\nIt has two paragraphs.",
            published_at=now - timedelta(days=i),
        )
        post.tags.set([tags[i % len(tags)], tags[(i + 2) % len(tags)]])
        for j in range(comments_per_post):
            Comment.objects.create(post=post, author_name=f"reader{j}", body=f"Comment {j} on {i}")
            created_comments += 1
    return {"posts": posts, "comments": created_comments}


def _measure(alias: str, fn) -> dict[str, Any]:
    before = round_trips(alias)
    with CaptureQueriesContext(connections[alias]) as ctx:
        rows = fn()
    after = round_trips(alias)
    return {
        "alias": alias,
        "rows": rows,
        "queries": len(ctx.captured_queries),
        "round_trips": None if before is None or after is None else after - before,
    }


def bulk_demo(views: int = 1000, comments: int = 200, seed: int = 0) -> list[dict[str, Any]]:
    """Insert page views and comments with bulk_create and report what it cost.

    ``queries`` counts the statements Django sent (the backend's bulk_batch_size decides how
    many rows go into one INSERT); ``round_trips`` counts requests on the wire where the backend
    has a counter (None for Django's own backends).
    """
    rng = random.Random(seed)
    post_ids = list(Post.objects.values_list("id", flat=True))
    if not post_ids:
        raise RuntimeError("load the sample data first (manage.py load_sample_data)")
    now = timezone.now()

    def insert_views() -> int:
        objs = []
        for _ in range(views):
            pid = rng.choice(post_ids)
            objs.append(
                PageView(
                    path=f"/posts/post-{pid}/",
                    post_id=pid,
                    viewed_at=now - timedelta(days=rng.randrange(30), minutes=rng.randrange(1440)),
                )
            )
        return len(PageView.objects.bulk_create(objs))

    def insert_comments() -> int:
        objs = [
            Comment(post_id=rng.choice(post_ids), author_name="bulk", body=f"bulk comment {i}")
            for i in range(comments)
        ]
        return len(Comment.objects.bulk_create(objs))

    return [
        {"what": "page views", **_measure(router.db_for_write(PageView), insert_views)},
        {"what": "comments", **_measure(router.db_for_write(Comment), insert_comments)},
    ]
