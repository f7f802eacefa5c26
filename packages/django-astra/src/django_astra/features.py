"""What Cassandra can and cannot do, stated honestly for Django."""

from django.db.backends.base.features import BaseDatabaseFeatures


class DatabaseFeatures(BaseDatabaseFeatures):
    minimum_database_version = None
    # Cassandra has no transactions: batches are atomic per partition, LWTs are per row.
    supports_transactions = False
    uses_savepoints = False
    can_release_savepoints = False
    atomic_transactions = False
    can_rollback_ddl = False
    supports_foreign_keys = False
    supports_forward_references = False
    supports_select_related = False
    supports_subqueries_in_group_by = False
    supports_combined_alters = False
    has_select_for_update = False
    supports_column_check_constraints = False
    supports_table_check_constraints = False
    supports_index_column_ordering = False
    supports_partial_indexes = False
    supports_json_field = False
    supports_sequence_reset = False
    can_introspect_foreign_keys = False
    supports_comments = True
    supports_unspecified_pk = False
    string_based_auto_field = True
    # Django's own test suite runs against SQL models, which this backend does not compile.
    django_test_skips = {
        "django_astra stores cqlengine models (DjangoCassandraModel), not Django SQL models; "
        "Django's SQL test apps do not apply.": {"*"},
    }
    django_test_expected_failures: set[str] = set()
