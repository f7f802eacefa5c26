"""Named sets of Django test apps (labels for ``tests/runtests.py``).

The denominator of every conformance figure is "the tests Django finds for these apps", so the
sets are pinned here, in the repository, and never computed from what a backend happens to pass.
"""

from __future__ import annotations

import pathlib

# About ten apps that exercise the ORM end to end; gates `make test` for every backend.
SMOKE: tuple[str, ...] = (
    "basic",
    "lookup",
    "queries",
    "model_fields",
    "bulk_create",
    "aggregation",
    "migrations",
    "schema",
    "introspection",
    "transactions",
)

# The 97 apps microsoft/mssql-django's `test.sh` passes to runtests.py (aggregation ...
# update_only_fields, including serializers and timezones), copied verbatim. Its "TODO" header
# names m2m_through_regress and many_to_one_null, which it does not run; neither do we.
ORM: tuple[str, ...] = (
    "aggregation",
    "aggregation_regress",
    "annotations",
    "backends",
    "basic",
    "bulk_create",
    "constraints",
    "custom_columns",
    "custom_lookups",
    "custom_managers",
    "custom_methods",
    "custom_migration_operations",
    "custom_pk",
    "datatypes",
    "dates",
    "datetimes",
    "db_functions",
    "db_typecasts",
    "db_utils",
    "dbshell",
    "defer",
    "defer_regress",
    "delete",
    "delete_regress",
    "distinct_on_fields",
    "empty",
    "expressions",
    "expressions_case",
    "expressions_window",
    "extra_regress",
    "field_deconstruction",
    "field_defaults",
    "field_subclassing",
    "filtered_relation",
    "fixtures",
    "fixtures_model_package",
    "fixtures_regress",
    "force_insert_update",
    "foreign_object",
    "from_db_value",
    "generic_relations",
    "generic_relations_regress",
    "get_earliest_or_latest",
    "get_object_or_404",
    "get_or_create",
    "indexes",
    "inspectdb",
    "introspection",
    "invalid_models_tests",
    "known_related_objects",
    "lookup",
    "m2m_and_m2o",
    "m2m_intermediary",
    "m2m_multiple",
    "m2m_recursive",
    "m2m_regress",
    "m2m_signals",
    "m2m_through",
    "m2o_recursive",
    "managers_regress",
    "many_to_many",
    "many_to_one",
    "max_lengths",
    "migrate_signals",
    "migration_test_data_persistence",
    "migrations",
    "migrations2",
    "model_fields",
    "model_indexes",
    "model_options",
    "mutually_referential",
    "nested_foreign_keys",
    "null_fk",
    "null_fk_ordering",
    "null_queries",
    "one_to_one",
    "or_lookups",
    "order_with_respect_to",
    "ordering",
    "pagination",
    "prefetch_related",
    "queries",
    "queryset_pickle",
    "raw_query",
    "reverse_lookup",
    "save_delete_hooks",
    "schema",
    "select_for_update",
    "select_related",
    "select_related_onetoone",
    "select_related_regress",
    "serializers",
    "timezones",
    "transaction_hooks",
    "transactions",
    "update",
    "update_only_fields",
)

SETS: dict[str, tuple[str, ...] | None] = {
    "smoke": SMOKE,
    "orm": ORM,
    # None: pass no labels, runtests.py then runs every app of the suite.
    "full": None,
}


def resolve(name: str, tests_dir: pathlib.Path | None = None) -> list[str]:
    """The app labels for set ``name`` (``[]`` for ``full``: runtests.py then picks every app).

    When ``tests_dir`` is given, checks that every label exists in that Django sdist.
    """
    if name not in SETS:
        raise KeyError(f"unknown app set {name!r}; choose one of {', '.join(SETS)}")
    apps = SETS[name]
    if apps is None:
        return []
    if tests_dir is not None:
        missing = [a for a in apps if not (tests_dir / a).is_dir()]
        if missing:
            raise ValueError(f"app set {name!r}: not in {tests_dir}: {', '.join(missing)}")
    return list(apps)
