from django.core.management.base import BaseCommand
from django.db import router

from blogproject.dbstats import claim_strategy
from tasks.models import Task
from tasks.queue import default_worker_id, work


class Command(BaseCommand):
    help = "Claim and run queued tasks. Several workers may run at once."

    def add_arguments(self, parser):
        parser.add_argument("--worker-id", default=None)
        parser.add_argument("--until-empty", action="store_true", help="stop when nothing is left")
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between polls")

    def handle(self, *args, worker_id, until_empty, max_tasks, poll, **options):
        worker_id = worker_id or default_worker_id()
        alias = router.db_for_write(Task)
        self.stdout.write(f"{worker_id}: claiming tasks on '{alias}' with {claim_strategy(alias)}")
        ran = work(
            worker_id,
            until_empty=until_empty,
            max_tasks=max_tasks,
            poll=poll,
            log=self.stdout.write,
        )
        self.stdout.write(f"{worker_id}: ran {len(ran)} task(s)")
