"""Pages, admin, sample data and bulk inserts, on whichever backend BLOG_BACKEND names."""

from django.contrib.auth.models import User
from django.db import connections
from django.test import TestCase

from analytics.models import PageView
from audit.models import AuditEntry

from .models import Comment, Post, Tag
from .sample import bulk_demo, load_sample_data


class PagesTests(TestCase):
    databases = {"default", "analytics"}

    @classmethod
    def setUpTestData(cls):
        load_sample_data(posts=4, comments_per_post=1)

    def test_post_list_shows_posts_with_authors_and_tags(self):
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Post number 4")
        self.assertContains(response, "Ada Lovelace")
        self.assertContains(response, "#django")

    def test_post_detail_records_a_page_view_in_the_analytics_database(self):
        response = self.client.get("/posts/post-2/")
        self.assertContains(response, "Comment 0 on 1")
        view = PageView.objects.get()
        self.assertEqual(view.post_id, Post.objects.get(slug="post-2").pk)
        self.assertEqual(view._state.db, "analytics")

    def test_unknown_post_is_404(self):
        self.assertEqual(self.client.get("/posts/nope/").status_code, 404)

    def test_tag_and_author_pages_filter(self):
        tag = Tag.objects.get(slug="django")
        expected = set(tag.posts.values_list("title", flat=True))
        response = self.client.get("/tags/django/")
        self.assertEqual({p.title for p in response.context["posts"]}, expected)
        response = self.client.get("/authors/grace/")
        self.assertEqual(
            {p.title for p in response.context["posts"]},
            set(Post.objects.filter(author__slug="grace").values_list("title", flat=True)),
        )

    def test_posting_a_comment_saves_it_and_audits_it(self):
        response = self.client.post("/posts/post-1/", {"author_name": "zoe", "body": "Hi"})
        self.assertRedirects(response, "/posts/post-1/", fetch_redirect_response=False)
        comment = Comment.objects.get(author_name="zoe")
        self.assertEqual(comment.post.slug, "post-1")
        self.assertTrue(
            AuditEntry.objects.filter(
                model="blog.Comment", object_pk=str(comment.pk), action="created"
            ).exists()
        )

    def test_invalid_comment_is_not_saved(self):
        response = self.client.post("/posts/post-1/", {"author_name": "", "body": ""})
        self.assertEqual(response.status_code, 200)
        self.assertFalse(Comment.objects.filter(body="").exists())

    def test_admin_pages(self):
        admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
        self.client.force_login(admin)
        for url in [
            "/admin/",
            "/admin/blog/post/",
            f"/admin/blog/post/{Post.objects.first().pk}/change/",
            "/admin/blog/comment/",
            "/admin/audit/auditentry/",
            "/admin/tasks/task/",
            "/admin/blog/post/?q=number",
        ]:
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 200)

    def test_sample_data_is_idempotent(self):
        self.assertEqual(load_sample_data(), {"posts": 0, "comments": 0})
        self.assertEqual(Post.objects.count(), 4)


class BulkTests(TestCase):
    databases = {"default", "analytics"}

    def test_bulk_create_reports_rows_and_requests(self):
        load_sample_data(posts=2, comments_per_post=0)
        views, comments = bulk_demo(views=300, comments=120)
        self.assertEqual((views["rows"], comments["rows"]), (300, 120))
        self.assertEqual(PageView.objects.count(), 300)
        self.assertEqual(Comment.objects.filter(author_name="bulk").count(), 120)
        for r, model, alias in ((views, PageView, "analytics"), (comments, Comment, "default")):
            self.assertEqual(r["alias"], alias)
            fields = [f for f in model._meta.concrete_fields if not f.primary_key]
            objs = [model()] * r["rows"]
            batch = max(connections[alias].ops.bulk_batch_size(fields, objs), 1)
            # bulk_create sends one INSERT per batch the backend allows (plus at most a
            # transaction statement or two), never one per row.
            self.assertGreaterEqual(r["queries"], 1)
            self.assertLessEqual(r["queries"], -(-r["rows"] // batch) + 2)
            if r["round_trips"] is not None:
                self.assertGreaterEqual(r["round_trips"], 1)
                self.assertLessEqual(r["round_trips"], r["queries"])


class SettingsTests(TestCase):
    def test_the_databases_variable_is_masked_on_the_debug_page(self):
        from django.views.debug import SafeExceptionReporterFilter

        self.assertTrue(SafeExceptionReporterFilter.hidden_settings.search("BLOG_DATABASES_SECRET"))
