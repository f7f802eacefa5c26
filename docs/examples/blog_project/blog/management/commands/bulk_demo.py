from django.core.management.base import BaseCommand

from blog.sample import bulk_demo


class Command(BaseCommand):
    help = "bulk_create page views and comments, and print how many queries/requests it took."

    def add_arguments(self, parser):
        parser.add_argument("--views", type=int, default=1000)
        parser.add_argument("--comments", type=int, default=200)

    def handle(self, *args, views, comments, **options):
        for r in bulk_demo(views=views, comments=comments):
            trips = "not counted by this backend" if r["round_trips"] is None else r["round_trips"]
            self.stdout.write(
                f"{r['what']}: {r['rows']} rows on '{r['alias']}' in {r['queries']} queries, "
                f"round trips: {trips}"
            )
