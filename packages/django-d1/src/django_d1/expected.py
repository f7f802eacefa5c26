"""Django test-suite expectations for django_d1, each with its reason (used by features.py).

Measured with ``tests-integration/django_suite/run.py --backend d1`` on Django 5.2.19.
"""

from __future__ import annotations

_NO_REGEXP = "D1 has no REGEXP function: regex lookups raise NotSupportedError."
_BIG_INT = (
    "D1's JSON API rounds integers beyond 2**53 (here a BigIntegerField default of 2**63-1); "
    "django_d1 raises DataError instead of returning the rounded value."
)
_NO_TRANSACTIONS = "D1's REST API has no transactions: atomic() cannot mark a failed block."
_BATCH_SIZE = (
    "bulk_create INSERTs are sized by the D1 cursor, which packs them into one batch request; "
    "bulk_batch_size() answers 100 // fields to other callers, so the test's arithmetic differs."
)

#: reason -> tests that fail on D1 for that documented reason.
EXPECTED: dict[str, set[str]] = {
    _NO_REGEXP: {
        "lookup.tests.LookupTests.test_regex",
        "lookup.tests.LookupTests.test_regex_non_ascii",
        "lookup.tests.LookupTests.test_regex_non_string",
        "lookup.tests.LookupTests.test_regex_null",
    },
    _BIG_INT: {
        "bulk_create.tests.BulkCreateTests.test_nullable_fk_after_parent",
        "bulk_create.tests.BulkCreateTests.test_nullable_fk_after_parent_bulk_create",
    },
    _NO_TRANSACTIONS: {
        "basic.tests.SelectOnSaveTests.test_select_on_save_lying_update",
    },
    _BATCH_SIZE: {
        "bulk_create.tests.BulkCreateTests.test_explicit_batch_size_respects_max_batch_size",
    },
}

EXPECTED_FAILURES: set[str] = set().union(*EXPECTED.values())

#: reason -> tests skipped on D1.
SKIPS: dict[str, set[str]] = {}
