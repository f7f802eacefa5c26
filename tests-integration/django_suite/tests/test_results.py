"""The runtests.py output parser: fed captured text, checked against hand-counted figures."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parent.parent


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"django_suite_{name}", SUITE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


results = _load("results")

# Shapes taken from real runtests.py -v 2 output (Python 3.12, Django 5.2), trimmed.
OUTPUT = """\
Testing against Django installed in '/x/django' with up to 2 processes
Importing application basic
Found 12 test(s).
Operations to perform:
  Synchronize unmigrated apps: auth, basic
Creating test database for alias 'default' ('file:memorydb_default?mode=memory&cache=shared')...
System check identified no issues (0 silenced).
test_a (basic.tests.ModelTests.test_a) ... ok
test_b (basic.tests.ModelTests.test_b)
You can initialize a model instance using positional arguments, ... ok
test_c (basic.tests.ModelTests.test_c) ... skipped 'Database has feature(s) x'
test_d (basic.tests.ModelTests.test_d) ... skipped "Database doesn't support feature(s): y"
test_e (lookup.tests.LookupTests.test_e) ... expected failure
test_f (lookup.tests.LookupTests.test_f) ... unexpected success
test_g (lookup.tests.LookupTests.test_g) ... FAIL
test_h (lookup.tests.LookupTests.test_h) ... ERROR
  test_i (lookup.tests.LookupTests.test_i) (value=1) ... FAIL
  test_i (lookup.tests.LookupTests.test_i) (value=2) ... FAIL
  test_j (lookup.tests.LookupTests.test_j) (value=3) ... skipped 'not for this value'
test_j (lookup.tests.LookupTests.test_j) ... ok
some stray print from a test
test_k (queries.tests.Q.test_k)
Docstring first line ... ERROR
setUpClass (queries.tests.Broken) ... ERROR

======================================================================
FAIL: test_g (lookup.tests.LookupTests.test_g)
----------------------------------------------------------------------
AssertionError: 1 != 2

----------------------------------------------------------------------
Ran 12 tests in 0.512s

FAILED (failures=3, errors=3, skipped=2, expected failures=1, unexpected successes=1)
"""


def test_totals_and_per_app():
    r = results.parse(OUTPUT.splitlines())
    assert (r.found, r.ran, r.duration, r.summary) == (12, 12, 0.512, "FAILED")
    assert r.summary_counts == {
        "failures": 3,
        "errors": 3,
        "skipped": 2,
        "expected failures": 1,
        "unexpected successes": 1,
    }
    t = r.totals()
    # a, b, j passed; c, d skipped; e xfail; f xpass; g, i failed; h, k, setUpClass errored.
    assert (t.passed, t.failed, t.errors, t.skipped) == (3, 2, 3, 2)
    assert (t.expected_failures, t.unexpected_successes, t.failed_errors) == (1, 1, 5)
    assert t.found == 12 and t.pass_rate == round(3 / 12, 4)
    apps = r.per_app()
    assert list(apps) == ["basic", "lookup", "queries"]
    assert (apps["basic"].found, apps["basic"].passed, apps["basic"].skipped) == (4, 2, 2)
    assert (apps["lookup"].found, apps["lookup"].failed, apps["lookup"].errors) == (6, 2, 1)
    assert apps["queries"].errors == 2


def test_failing_ids():
    r = results.parse(OUTPUT.splitlines())
    assert r.failing() == [
        {"id": "lookup.tests.LookupTests.test_f", "outcome": "unexpected success"},
        {"id": "lookup.tests.LookupTests.test_g", "outcome": "FAIL"},
        {"id": "lookup.tests.LookupTests.test_h", "outcome": "ERROR"},
        {"id": "lookup.tests.LookupTests.test_i", "outcome": "FAIL"},
        {"id": "queries.tests.Broken.setUpClass", "outcome": "ERROR"},
        {"id": "queries.tests.Q.test_k", "outcome": "ERROR"},
    ]
    assert r.with_outcome("expected failure") == ["lookup.tests.LookupTests.test_e"]


def test_python_311_labels_without_method_name():
    r = results.parse(["Found 1 test(s).", "test_x (app.tests.T) ... FAIL", "Ran 1 test in 0.1s"])
    assert r.failing() == [{"id": "app.tests.T.test_x", "outcome": "FAIL"}]
    assert r.ran == 1 and r.summary is None


def test_subtest_failure_counted_once_even_with_own_error():
    lines = [
        "  test_x (app.tests.T.test_x) (i=1) ... FAIL",
        "test_x (app.tests.T.test_x) ... ERROR",
    ]
    t = results.parse(lines).totals()
    assert (t.found, t.failed, t.errors) == (1, 0, 1)


def test_unreported_tests_lower_the_pass_rate():
    # setUpClass failed: Django found 3 tests, none ran, one error holder reported.
    lines = ["Found 3 test(s).", "setUpClass (app.tests.T) ... ERROR", "Ran 0 tests in 0.0s"]
    t = results.parse(lines).totals()
    assert (t.found, t.passed, t.errors, t.pass_rate, t.not_reported) == (3, 0, 1, 0.0, 3)


@pytest.mark.parametrize(
    "line",
    [
        "Creating table basic_article",
        "Applying migrations.0001_initial... OK",
        "test_thing is mentioned here ... ok but not a status line",
    ],
)
def test_noise_is_ignored(line):
    r = results.parse([line])
    assert r.events == [] and r.found is None


def test_teardown_errors_fold_into_one_test():
    lines = [
        "Found 3 test(s).",
        "test_a (app.tests.T.test_a) ... ok",
        "test_a (app.tests.T.test_a) ... ERROR",  # passed, then _post_teardown failed
        "test_b (app.tests.T.test_b) ... ERROR",
        "test_b (app.tests.T.test_b) ... ERROR",  # error, then cleanup error
        "test_c (app.tests.T.test_c) ... skipped 'no'",
        "test_c (app.tests.T.test_c) ... ERROR",  # skipped, then tearDown failed
    ]
    t = results.parse(lines).totals()
    assert (t.found, t.passed, t.errors, t.skipped, t.not_reported) == (3, 0, 3, 0, 0)


def test_parallel_skip_lines_with_previous_test_id_count_separately():
    # Under --parallel on Python 3.12 a decorator-skipped test reports with the id of the
    # test started before it: the line after test_a's own outcome is another test.
    lines = [
        "Found 4 test(s).",
        "test_a (app.tests.T.test_a) ... ok",
        "test_a (app.tests.T.test_a) ... skipped 'mysql only'",
        "test_a (app.tests.T.test_a) ... skipped 'mysql only'",
        "test_d (app.tests.T.test_d) ... FAIL",
    ]
    r = results.parse(lines)
    t = r.totals()
    assert (t.found, t.passed, t.skipped, t.failed, t.not_reported) == (4, 1, 2, 1, 0)
    assert r.failing() == [{"id": "app.tests.T.test_d", "outcome": "FAIL"}]
