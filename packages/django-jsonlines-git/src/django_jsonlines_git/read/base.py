"""ENGINE ``django_jsonlines_git.read``: SQL over a commit of the repository; never writes.

Writes fail with SQLite's "attempt to write a readonly database". ``OPTIONS['ref']`` opens the
data as of a commit, tag or branch (resolved when the connection opens).
"""

from django_jsonlines_git.engine import DatabaseWrapper as _Base


class DatabaseWrapper(_Base):
    writable = False
