import json

from django.core.management.base import BaseCommand, CommandError

from tasks.queue import enqueue


class Command(BaseCommand):
    help = 'Add a task to the queue, e.g. `enqueue_task notify \'{"to": "ann"}\'`.'

    def add_arguments(self, parser):
        parser.add_argument("kind")
        parser.add_argument("payload", nargs="?", default="{}", help="JSON object")
        parser.add_argument("--max-attempts", type=int, default=3)

    def handle(self, *args, kind, payload, max_attempts, **options):
        try:
            task = enqueue(kind, json.loads(payload), max_attempts=max_attempts)
        except (ValueError, TypeError) as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"enqueued {task}")
