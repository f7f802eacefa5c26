"""The README's minimal backend is real: run it against Django in a fresh process."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"

SCRIPT = textwrap.dedent(
    """
    import sqlite3, sys
    import django
    from django.conf import settings

    path = sys.argv[1]
    settings.configure(
        DEBUG=True,
        USE_TZ=True,
        INSTALLED_APPS=[],
        DATABASES={"default": {"ENGINE": "example_backend", "NAME": path,
                               "PASSWORD": "pw-Secret-4711"}},
    )
    django.setup()
    from django.db import IntegrityError, connection, models, transaction
    from django_backend_core.testing import assert_no_secret

    class Item(models.Model):
        name = models.CharField(max_length=20, unique=True)
        class Meta:
            app_label = "example"

    with connection.schema_editor() as editor:
        editor.create_model(Item)

    Item.objects.create(name="a")
    Item.objects.bulk_create([Item(name="b%"), Item(name="c")])
    assert list(Item.objects.filter(name__contains="%").values_list("name", flat=True)) == ["b%"]
    assert Item.objects.filter(name__startswith="c").count() == 1

    # a failed atomic block rolls back in the store
    try:
        with transaction.atomic():
            Item.objects.create(name="d")
            Item.objects.create(name="a")
    except IntegrityError as exc:
        assert "UNIQUE constraint failed" in str(exc), exc
        assert_no_secret(exc, "pw-Secret-4711")
    else:
        raise AssertionError("duplicate accepted")
    assert not Item.objects.filter(name="d").exists()

    # a successful one is committed: another connection sees it
    with transaction.atomic():
        Item.objects.create(name="e")
        with transaction.atomic():  # savepoint
            Item.objects.create(name="f")
    other = sqlite3.connect(path)
    assert sorted(r[0] for r in other.execute("SELECT name FROM example_item")) == [
        "a", "b%", "c", "e", "f"
    ]

    # DEBUG query log renders params locally, counters saw the traffic
    assert any("'b%'" in q["sql"] for q in connection.queries), connection.queries[-3:]
    metrics = connection.connection.metrics
    assert metrics.requests > 5 and metrics.statements >= metrics.requests
    connection.close()
    assert connection.connection is None
    print("README-EXAMPLE-OK")
    """
)


def test_readme_example_backend_runs_against_django(tmp_path):
    text = README.read_text()
    m = re.search(r"<!-- example: example_backend/base.py -->\s*```python\n(.*?)```", text, re.S)
    assert m, "README example block not found"
    pkg = tmp_path / "example_backend"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "base.py").write_text(m.group(1))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "db.sqlite3")],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "README-EXAMPLE-OK" in proc.stdout
