"""Django's sqlite3 dialect for SQLite servers without Django's Python functions.

Django's sqlite3 backend registers ``django_*`` user functions (date extraction/truncation,
time-zone conversion, duration arithmetic, LPAD/REPEAT/REVERSE, POWER, STDDEV...) on its Python
``sqlite3`` connection. A SQLite reached over a wire (Cloudflare D1, Durable Objects) has none, so
this package emits plain SQLite instead and raises ``NotSupportedError`` (with what to do
instead) for what SQLite cannot express: REGEXP lookups, MD5/SHA* functions, BitAnd/BitOr/BitXor
and UUID7. Time zones are converted with SQL (fixed offsets, or per-zone transition tables).

Public, stable classes (backends subclass them; import from the submodules):

- ``base.RemoteSQLiteDatabaseWrapper`` — implement ``make_transport(conn_params)``; optionally
  ``get_connection_params``, ``adapt_param``, ``inline_param``, ``check_test_database``,
  ``check_flush_allowed``; set ``max_query_params``/``max_statement_bytes``/``sqlite_version``.
  ``get_new_connection`` returns a ``django_backend_core.dbapi.Connection`` over a
  ``QueueingTransport``; ``atomic_batch()`` queues writes and sends one atomic batch;
  ``execute_batch([(sql, params), ...])`` sends Django-style statements in one round trip.
- ``features.DatabaseFeatures``, ``operations.DatabaseOperations``,
  ``schema.DatabaseSchemaEditor`` (table rebuilds as one batch under
  ``PRAGMA defer_foreign_keys = on``), ``introspection.DatabaseIntrospection`` (hides ``_cf_*``
  and ``sqlite_*`` tables), ``creation.DatabaseCreation`` (test databases are existing
  databases that are emptied after ``check_test_database()``).
- ``compiler`` — the compiler module (``HANDLERS`` maps expression classes to SQL builders).
- ``sql`` — the SQL builders themselves (pure functions, unit-testable).

Transactions: ``features.supports_transactions`` is False in the backends built on this
(``atomic()`` cannot roll back); foreign keys cannot be disabled, so ``flush`` and rebuilds run
as one batch with deferred foreign keys.
"""
