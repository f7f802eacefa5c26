from django.core.management.base import BaseCommand

from analytics.rollup import process_analytics


class Command(BaseCommand):
    help = "Roll page views into daily per-post counts (atomically where the backend can)."

    def handle(self, *args, **options):
        result = process_analytics()
        self.stdout.write(result.describe())
