from django.core.management.base import BaseCommand

from blog.sample import load_sample_data


class Command(BaseCommand):
    help = "Create sample authors, tags, posts and comments (does nothing if posts exist)."

    def add_arguments(self, parser):
        parser.add_argument("--posts", type=int, default=12)

    def handle(self, *args, posts, **options):
        made = load_sample_data(posts=posts)
        self.stdout.write(f"created {made['posts']} posts and {made['comments']} comments")
