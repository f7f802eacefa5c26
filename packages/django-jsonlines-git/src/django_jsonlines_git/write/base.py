"""ENGINE ``django_jsonlines_git.write``: every committed transaction becomes one git commit."""

from django_jsonlines_git.engine import DatabaseWrapper as _Base


class DatabaseWrapper(_Base):
    writable = True
