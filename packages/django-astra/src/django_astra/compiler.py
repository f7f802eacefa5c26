"""Django SQL models are not compiled to CQL: say so instead of emitting SQL Cassandra rejects."""

from typing import Any

from django.db.models.sql import compiler
from django.db.utils import NotSupportedError

_MSG = (
    "django_astra does not run Django SQL models (models.Model) on Cassandra. Define the model as a "
    "django_astra.models.DjangoCassandraModel with cqlengine columns, and keep SQL models "
    "(auth, admin log, contenttypes) on a SQL database via DATABASE_ROUTERS."
)


class SQLCompiler(compiler.SQLCompiler):
    def execute_sql(self, *args: Any, **kwargs: Any) -> Any:
        raise NotSupportedError(_MSG)

    def as_sql(self, *args: Any, **kwargs: Any) -> Any:
        raise NotSupportedError(_MSG)


class SQLInsertCompiler(compiler.SQLInsertCompiler, SQLCompiler):
    pass


class SQLDeleteCompiler(compiler.SQLDeleteCompiler, SQLCompiler):
    pass


class SQLUpdateCompiler(compiler.SQLUpdateCompiler, SQLCompiler):
    pass


class SQLAggregateCompiler(compiler.SQLAggregateCompiler, SQLCompiler):
    pass
