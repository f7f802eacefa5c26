from django.test import TestCase

from blog.models import Author, Tag

from .models import AuditEntry


class AuditTests(TestCase):
    def test_save_update_delete_are_logged(self):
        author = Author.objects.create(name="Ann", slug="ann")
        author.name = "Ann B."
        author.save()
        pk = str(author.pk)
        author.delete()
        entries = AuditEntry.objects.filter(model="blog.Author", object_pk=pk).order_by("id")
        self.assertEqual([e.action for e in entries], ["created", "updated", "deleted"])
        self.assertEqual(entries[1].summary, "Ann B.")

    def test_bulk_create_sends_no_signals_so_leaves_no_entries(self):
        Tag.objects.bulk_create([Tag(name="a", slug="a"), Tag(name="b", slug="b")])
        self.assertFalse(AuditEntry.objects.filter(model="blog.Tag").exists())

    def test_non_blog_models_are_not_audited(self):
        from tasks.queue import enqueue

        enqueue("notify")
        self.assertFalse(AuditEntry.objects.exclude(model__startswith="blog.").exists())
