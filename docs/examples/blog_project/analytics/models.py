"""Page views and their daily roll-up, stored in the "analytics" database (see the router)."""

from django.db import models
from django.utils import timezone


class PageView(models.Model):
    path = models.CharField(max_length=200)
    # A plain integer, not a ForeignKey: posts live in another database.
    post_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    viewed_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.path} at {self.viewed_at:%Y-%m-%d %H:%M}"


class DailyPostViews(models.Model):
    post_id = models.BigIntegerField()
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post_id", "day"], name="daily_post_views_unique")
        ]
        ordering = ["day", "post_id"]

    def __str__(self) -> str:
        return f"post {self.post_id} on {self.day}: {self.views}"
