"""JSON summary of the last 30 days of rolled-up page views."""

from collections import Counter
from datetime import timedelta

from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from .models import DailyPostViews, PageView


def last_30_days(request: HttpRequest) -> JsonResponse:
    until = timezone.now().date()
    since = until - timedelta(days=29)
    per_day: Counter = Counter()
    per_post: Counter = Counter()
    for post_id, day, views in DailyPostViews.objects.filter(day__gte=since).values_list(
        "post_id", "day", "views"
    ):
        per_day[day] += views
        per_post[post_id] += views
    days = [since + timedelta(days=i) for i in range(30)]
    return JsonResponse(
        {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "total": sum(per_day.values()),
            "days": [{"day": d.isoformat(), "views": per_day.get(d, 0)} for d in days],
            "posts": [{"post_id": p, "views": v} for p, v in per_post.most_common()],
            # Views recorded but not yet rolled up by `manage.py process_analytics`.
            "unprocessed": PageView.objects.filter(processed=False).count(),
        }
    )
