from datetime import timedelta
from unittest import mock

from django.core.management import call_command
from django.db import connections
from django.db.models import QuerySet
from django.test import TestCase
from django.utils import timezone

from blogproject.dbstats import has_transactions

from .models import DailyPostViews, PageView
from .rollup import process_analytics


class RouterTests(TestCase):
    databases = {"default", "analytics"}

    def test_analytics_tables_exist_only_in_the_analytics_database(self):
        analytics = connections["analytics"].introspection.table_names()
        default = connections["default"].introspection.table_names()
        self.assertIn(PageView._meta.db_table, analytics)
        self.assertNotIn(PageView._meta.db_table, default)
        self.assertIn("blog_post", default)
        self.assertNotIn("blog_post", analytics)


class RollupTests(TestCase):
    databases = {"default", "analytics"}

    def views(self, post_id, n, days_ago=0):
        at = timezone.now() - timedelta(days=days_ago)
        PageView.objects.bulk_create(
            [PageView(path="/x/", post_id=post_id, viewed_at=at) for _ in range(n)]
        )

    def test_rolls_up_per_post_and_day_and_marks_views_processed(self):
        # More than 9 views: ids 10+ must sort after 9 (numeric, not text, ordering).
        self.views(1, 12)
        self.views(1, 2, days_ago=1)
        self.views(2, 4)
        result = process_analytics()
        self.assertEqual((result.views, result.created, result.updated), (18, 3, 0))
        today = timezone.localdate()
        self.assertEqual(DailyPostViews.objects.get(post_id=1, day=today).views, 12)
        self.assertEqual(DailyPostViews.objects.get(post_id=2, day=today).views, 4)
        self.assertFalse(PageView.objects.filter(processed=False).exists())
        # A second run has nothing to do; new views add to the existing rows.
        self.assertEqual(process_analytics().views, 0)
        self.views(2, 1)
        result = process_analytics()
        self.assertEqual((result.created, result.updated), (0, 1))
        self.assertEqual(DailyPostViews.objects.get(post_id=2, day=today).views, 5)

    def test_a_failure_mid_write_rolls_back_where_the_backend_has_transactions(self):
        self.views(1, 2)
        real_update = QuerySet.update

        def update(qs, **kwargs):
            if qs.model is PageView:  # fail at the last step: marking views processed
                raise RuntimeError("boom")
            return real_update(qs, **kwargs)

        with mock.patch.object(QuerySet, "update", update):
            with self.assertRaises(RuntimeError):
                process_analytics()
        if has_transactions("analytics"):
            self.assertFalse(DailyPostViews.objects.exists())
        else:
            # No transactions: the roll-up row is there and the views are still unprocessed,
            # exactly what the command warns about.
            self.assertTrue(DailyPostViews.objects.exists())
        self.assertEqual(PageView.objects.filter(processed=False).count(), 2)

    def test_command_says_whether_it_was_atomic(self):
        self.views(1, 1)
        with mock.patch("sys.stdout") as out:
            call_command("process_analytics", stdout=out)
        text = "".join(c.args[0] for c in out.write.call_args_list)
        if has_transactions("analytics"):
            self.assertIn("in one atomic transaction", text)
        else:
            self.assertIn("WITHOUT a transaction", text)

    def test_last_30_days_json(self):
        self.views(7, 2)
        self.views(8, 1, days_ago=3)
        self.views(8, 5, days_ago=40)  # outside the window
        process_analytics()
        self.views(8, 1)  # not processed yet
        data = self.client.get("/analytics/last-30-days.json").json()
        self.assertEqual(len(data["days"]), 30)
        self.assertEqual(data["total"], 3)
        self.assertEqual(data["unprocessed"], 1)
        self.assertEqual(data["posts"], [{"post_id": 7, "views": 2}, {"post_id": 8, "views": 1}])
        self.assertEqual(data["days"][-1], {"day": data["until"], "views": 2})
