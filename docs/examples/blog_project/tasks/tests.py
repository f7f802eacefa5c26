"""The task queue: claim, retry, fail, and two workers draining one queue without double work."""

import os
import threading
import time
import unittest
from unittest import mock

from django.db import connections
from django.test import TestCase, TransactionTestCase, override_settings

from blog.models import Author, Post
from blogproject.dbstats import claim_strategy

from . import handlers
from .models import Task
from .queue import claim, enqueue, run_one, work


@override_settings(TASKS_RETRY_DELAY=0)
class QueueTests(TestCase):
    def test_unknown_kind_is_refused(self):
        with self.assertRaisesMessage(ValueError, "unknown task kind"):
            enqueue("nope")

    def test_claim_takes_oldest_pending_and_skips_taken_ones(self):
        first, second = enqueue("notify"), enqueue("notify")
        got = claim("w1")
        self.assertEqual(got.pk, first.pk)
        self.assertEqual((got.status, got.claimed_by, got.attempts), ("running", "w1", 1))
        self.assertEqual(claim("w2").pk, second.pk)
        self.assertIsNone(claim("w3"))

    def test_claim_ignores_tasks_scheduled_later(self):
        task = enqueue("notify")
        Task.objects.filter(pk=task.pk).update(run_after=task.run_after.replace(year=2999))
        self.assertIsNone(claim("w1"))

    def test_done_with_result(self):
        author = Author.objects.create(name="A", slug="a")
        post = Post.objects.create(title="t", slug="t", author=author, body="b")
        task = enqueue("publish_post", {"post_id": post.pk})
        self.assertEqual(run_one(claim("w")), "done")
        task.refresh_from_db()
        self.assertEqual((task.status, task.result), ("done", {"published": "t"}))
        post.refresh_from_db()
        self.assertIsNotNone(post.published_at)

    def test_failure_is_retried_then_succeeds(self):
        task = enqueue("flaky", {"fail_times": 2}, max_attempts=3)
        ran = work("w", until_empty=True, poll=0.01)
        self.assertEqual(ran, [(task.pk, "pending"), (task.pk, "pending"), (task.pk, "done")])
        task.refresh_from_db()
        self.assertEqual((task.status, task.attempts), ("done", 3))
        self.assertEqual(task.result, {"succeeded_on_attempt": 3})

    def test_failure_after_max_attempts_is_final(self):
        task = enqueue("always_fail", max_attempts=2)
        work("w", until_empty=True, poll=0.01)
        task.refresh_from_db()
        self.assertEqual((task.status, task.attempts), ("failed", 2))
        self.assertIn("this task always fails", task.last_error)

    def test_retry_waits_for_the_delay(self):
        task = enqueue("flaky", {"fail_times": 1})
        with override_settings(TASKS_RETRY_DELAY=3600):
            self.assertEqual(run_one(claim("w")), "pending")
        self.assertIsNone(claim("w"))  # not runnable for an hour
        task.refresh_from_db()
        self.assertEqual(task.status, "pending")

    def test_a_finished_task_cannot_be_finished_by_a_stale_worker(self):
        enqueue("notify")
        task = claim("w1")
        # Say w1 was presumed dead and its task handed back to the queue; w2 takes it.
        Task.objects.filter(pk=task.pk).update(status="pending", claimed_by="")
        self.assertEqual(claim("w2").pk, task.pk)
        self.assertEqual(run_one(task), "lost")  # w1 finishes late: its mark matches no row
        task.refresh_from_db()
        self.assertEqual((task.status, task.claimed_by), ("running", "w2"))


@unittest.skipIf(
    bool(os.environ.get("BLOG_DEMO_SERIAL_WORKERS")),
    "the local server cannot serve two sessions at once: "
    + os.environ.get("BLOG_DEMO_SERIAL_WORKERS", ""),
)
@override_settings(TASKS_RETRY_DELAY=0)
class TwoWorkersTests(TransactionTestCase):
    """Two workers in two threads (two database connections) drain one queue."""

    def test_every_task_runs_exactly_once(self):
        tasks = [enqueue("notify", {"to": f"user{i}"}) for i in range(30)]
        runs: list[int] = []
        lock = threading.Lock()
        real = handlers.HANDLERS["notify"]

        def counting(payload, attempt):
            with lock:
                runs.append(int(payload["to"][4:]))
            time.sleep(0.005)  # give the other worker a chance to race
            return real(payload, attempt)

        results: dict[str, list] = {}
        errors: list[BaseException] = []

        def worker(name):
            try:
                results[name] = work(name, until_empty=True, poll=0.01)
            except BaseException as exc:  # surfaced below
                errors.append(exc)
            finally:
                connections.close_all()

        with mock.patch.dict(handlers.HANDLERS, {"notify": counting}):
            threads = [threading.Thread(target=worker, args=(n,)) for n in ("w1", "w2")]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(
            sorted(runs), list(range(30)), f"claim strategy: {claim_strategy('default')}"
        )
        ran = results["w1"] + results["w2"]
        self.assertEqual(sorted(pk for pk, _ in ran), sorted(t.pk for t in tasks))
        self.assertEqual(Task.objects.filter(status="done").count(), 30)
        by_worker = dict(Task.objects.values_list("id", "claimed_by"))
        for name in ("w1", "w2"):
            self.assertTrue(all(by_worker[pk] == name for pk, _ in results[name]))
