"""Roll raw page views into per-post daily counts.

Where the analytics database has transactions, the roll-up and the "processed" marks are one
atomic write. Where it has none, the same statements run one after another and the result
says so: a crash between them would count those views again on the next run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db import router, transaction
from django.utils import timezone

from blogproject.dbstats import has_transactions

from .models import DailyPostViews, PageView


@dataclass
class RollupResult:
    alias: str
    atomic: bool
    views: int = 0
    created: int = 0
    updated: int = 0
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        how = (
            "in one atomic transaction"
            if self.atomic
            else "WITHOUT a transaction (this backend has none): the roll-up rows and the "
            "'processed' marks were separate writes, so a failure between them would count "
            "those views twice on the next run"
        )
        return (
            f"rolled {self.views} page views into {self.created} new and {self.updated} "
            f"updated daily rows on '{self.alias}' {how}"
        )


def process_analytics() -> RollupResult:
    alias = router.db_for_write(DailyPostViews)
    result = RollupResult(alias=alias, atomic=has_transactions(alias))
    pending = PageView.objects.using(alias).filter(processed=False)
    # Fix the batch first, so views recorded while we work wait for the next run.
    last_id = pending.order_by("-id").values_list("id", flat=True).first()
    if last_id is None:
        return result
    batch = pending.filter(id__lte=last_id)
    counts: Counter = Counter()
    for post_id, viewed_at in batch.values_list("post_id", "viewed_at"):
        result.views += 1
        if post_id is not None:
            counts[(post_id, timezone.localdate(viewed_at))] += 1

    def write() -> None:
        existing = {
            (row.post_id, row.day): row
            for row in DailyPostViews.objects.using(alias).filter(
                post_id__in={p for p, _ in counts}, day__in={d for _, d in counts}
            )
        }
        new, changed = [], []
        for (post_id, day), n in counts.items():
            row = existing.get((post_id, day))
            if row is None:
                new.append(DailyPostViews(post_id=post_id, day=day, views=n))
            else:
                row.views += n
                changed.append(row)
        DailyPostViews.objects.using(alias).bulk_create(new)
        if changed:
            DailyPostViews.objects.using(alias).bulk_update(changed, ["views"])
        batch.update(processed=True)
        result.created, result.updated = len(new), len(changed)

    if result.atomic:
        with transaction.atomic(using=alias):
            write()
    else:
        write()
    return result
