"""Behaviour of the read and write engines against real git repositories in tmp dirs."""

from __future__ import annotations

import datetime
import decimal
import json
import subprocess
import uuid
from pathlib import Path

import pytest
from conftest import R, W, commits, git, point
from django.core.management import call_command
from django.db import DatabaseError, OperationalError, connections, transaction
from django.db.utils import ImproperlyConfigured
from django_jsonlines_git.gitstore import Entry, GitStore
from jlg_testapp.models import Author, Book, Counter, Tag


def read_jsonl(path: Path, table: str) -> list[dict]:
    return [json.loads(line) for line in (path / f"{table}.jsonl").read_text().splitlines()]


def test_repo_created_by_migrate_with_only_jsonl_and_schema(migrated: Path) -> None:
    assert (migrated / ".git").is_dir()
    files = set(git(migrated, "ls-files").split())
    assert files == {
        "schema.sql",
        "django_migrations.jsonl",
        "jlg_testapp_author.jsonl",
        "jlg_testapp_book.jsonl",
        "jlg_testapp_book_tags.jsonl",
        "jlg_testapp_tag.jsonl",
        "jlg_testapp_counter.jsonl",
    }
    assert "sqlite_sequence" not in (migrated / "schema.sql").read_text()
    assert git(migrated, "status", "--porcelain") == ""
    # The router's allow_migrate kept auth/contenttypes out of the repository.
    assert "auth_user" not in (migrated / "schema.sql").read_text()
    names = [r["name"] for r in read_jsonl(migrated, "django_migrations")]
    assert names == ["0001_initial"]


def test_read_engine_does_not_create_a_repository(repo: Path) -> None:
    with pytest.raises(OperationalError, match="no git repository"):
        Counter.objects.using(R).count()
    assert not repo.exists()


def test_values_round_trip_in_stable_text(migrated: Path) -> None:
    author = Author.objects.create(name="Zoë")
    book_id = uuid.UUID("12345678-1234-5678-9abc-def012345678")
    published = datetime.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=datetime.UTC)
    Book.objects.create(
        id=book_id,
        title='quote " and \n newline',
        price=decimal.Decimal("12.50"),
        published=published,
        day=datetime.date(2024, 2, 29),
        ratio=0.1,
        flag=True,
        data={"b": 1, "a": [1, None, "x"]},
        blob=b"\x00\xff\x10",
        author=author,
    )
    (line,) = (migrated / "jlg_testapp_book.jsonl").read_text().splitlines()
    row = json.loads(line)
    assert list(row) == sorted(row)  # keys sorted
    assert row["id"] == str(book_id)  # canonical UUID
    assert row["price"] == "12.5"  # decimal as a string, never a float
    assert row["published"] == "2024-05-01 12:00:00.123456"
    assert row["day"] == "2024-02-29"
    assert row["ratio"] == 0.1
    assert row["blob"] == {"$base64": "AP8Q"}
    assert row["title"] == 'quote " and \n newline'
    assert "Zoë" in (migrated / "jlg_testapp_author.jsonl").read_text(encoding="utf-8")
    # A new connection builds SQLite from the files only, and Django reads the same values.
    connections[R].close()
    b = Book.objects.using(R).get()
    assert (b.id, b.price, b.published, b.day, b.ratio, b.flag) == (
        book_id,
        decimal.Decimal("12.50"),
        published,
        datetime.date(2024, 2, 29),
        0.1,
        True,
    )
    assert b.data == {"b": 1, "a": [1, None, "x"]} and bytes(b.blob) == b"\x00\xff\x10"
    assert b.author_id == author.pk


def test_rows_sorted_by_primary_key(migrated: Path) -> None:
    for n in (3, 1, 2):
        Tag.objects.create(id=n, name=f"t{n}")
    ids = [uuid.UUID(int=n) for n in (9, 2, 5)]
    Book.objects.bulk_create([Book(id=i, title="x") for i in ids])
    assert [r["id"] for r in read_jsonl(migrated, "jlg_testapp_tag")] == [1, 2, 3]
    assert [r["id"] for r in read_jsonl(migrated, "jlg_testapp_book")] == [
        str(i) for i in sorted(ids)
    ]


def test_one_commit_per_transaction_and_no_empty_commits(migrated: Path) -> None:
    start = commits(migrated)
    Counter.objects.create(n=1)  # autocommit statement = one commit
    assert commits(migrated) == start + 1
    with transaction.atomic(using=W):
        for i in range(5):
            Counter.objects.create(n=i)
        Tag.objects.create(name="a")
        Counter.objects.filter(n=0).delete()
    assert commits(migrated) == start + 2
    changed = set(git(migrated, "show", "--name-only", "--format=", "HEAD").split())
    assert changed == {"jlg_testapp_counter.jsonl", "jlg_testapp_tag.jsonl"}
    Counter.objects.count()
    Counter.objects.filter(n=1).update(n=1)  # rows match, nothing changes
    with transaction.atomic(using=W):
        Counter.objects.create(n=99)
        transaction.set_rollback(True, using=W)
    with pytest.raises(ZeroDivisionError), transaction.atomic(using=W):
        Counter.objects.create(n=98)
        1 / 0  # noqa: B018
    assert commits(migrated) == start + 2
    assert sorted(r["n"] for r in read_jsonl(migrated, "jlg_testapp_counter")) == [1, 1, 2, 3, 4]


def test_savepoint_rollback_forgets_its_rows(migrated: Path) -> None:
    with transaction.atomic(using=W):
        Counter.objects.create(n=1)
        try:
            with transaction.atomic(using=W):
                Counter.objects.create(n=2)
                raise ValueError
        except ValueError:
            pass
    assert [r["n"] for r in read_jsonl(migrated, "jlg_testapp_counter")] == [1]


def test_default_message_names_tables_and_rows_and_author_option(repo: Path) -> None:
    point(
        repo,
        author="Ada <ada@example.com>",
        commit_message="data: {tables} ({rows} rows)\n\n{summary}",
    )
    call_command("migrate", "jlg_testapp", database=W, verbosity=0)
    Counter.objects.bulk_create([Counter(n=i) for i in range(3)])
    log = git(repo, "log", "-1", "--format=%an <%ae>|%B")
    assert log.startswith("Ada <ada@example.com>|data: jlg_testapp_counter (3 rows)")
    assert "jlg_testapp_counter (+3 ~0 -0, 3 rows)" in log
    point(repo)
    Counter.objects.filter(n=0).update(n=7)
    assert git(repo, "log", "-1", "--format=%s") == (
        "json-git: jlg_testapp_counter (+0 ~1 -0, 3 rows)\n"
    )


def test_bad_options_are_rejected(repo: Path) -> None:
    point(repo, commit_message="{nope}")
    with pytest.raises(ImproperlyConfigured, match="nope"):
        connections[W].ensure_connection()
    point(repo)
    connections[R].settings_dict["OPTIONS"]["author"] = "x"
    with pytest.raises(ImproperlyConfigured, match="author"):
        connections[R].ensure_connection()


def test_dropped_table_is_git_rmed_and_schema_updated(migrated: Path) -> None:
    Tag.objects.create(name="x")
    with connections[W].schema_editor() as editor:
        editor.delete_model(Book.tags.through)
        editor.delete_model(Tag)
    assert not (migrated / "jlg_testapp_tag.jsonl").exists()
    assert "jlg_testapp_tag.jsonl" not in git(migrated, "ls-files")
    assert "jlg_testapp_tag" not in (migrated / "schema.sql").read_text()
    assert git(migrated, "status", "--porcelain") == ""


def test_alter_table_rewrites_rows_with_new_column(migrated: Path) -> None:
    from django.db import models

    Counter.objects.create(n=5)
    field = models.IntegerField(default=3)
    field.set_attributes_from_name("extra")
    with connections[W].schema_editor() as editor:
        editor.add_field(Counter, field)
    assert read_jsonl(migrated, "jlg_testapp_counter") == [{"extra": 3, "id": 1, "n": 5}]
    connections[W].close()
    with connections[W].cursor() as cur:
        cur.execute("SELECT extra, n FROM jlg_testapp_counter")
        assert cur.fetchall() == [(3, 5)]


def test_external_commit_is_seen_by_next_transaction(migrated: Path) -> None:
    Counter.objects.create(n=1)
    assert Counter.objects.using(R).get().n == 1
    # Another process (here: plain git) commits a change.
    (migrated / "jlg_testapp_counter.jsonl").write_text('{"id": 1, "n": 42}\n')
    git(migrated, "commit", "-qam", "external edit")
    assert Counter.objects.using(R).get().n == 42
    assert Counter.objects.get(pk=1).n == 42  # router: reads go to the read alias
    assert Counter.objects.using(W).get().n == 42
    c = Counter.objects.using(W).get()
    c.n += 1
    c.save()
    assert read_jsonl(migrated, "jlg_testapp_counter") == [{"id": 1, "n": 43}]


def test_transaction_does_not_see_commits_made_during_it(migrated: Path) -> None:
    Counter.objects.create(n=1)
    with transaction.atomic(using=R):
        assert Counter.objects.using(R).get().n == 1
        (migrated / "jlg_testapp_counter.jsonl").write_text('{"id": 1, "n": 2}\n')
        git(migrated, "commit", "-qam", "external")
        assert Counter.objects.using(R).get().n == 1
    assert Counter.objects.using(R).get().n == 2


def test_write_after_head_moved_inside_transaction_fails(migrated: Path) -> None:
    Counter.objects.create(n=1)
    with pytest.raises(OperationalError, match="moved"), transaction.atomic(using=W):
        Counter.objects.using(W).get()
        (migrated / "jlg_testapp_counter.jsonl").write_text('{"id": 1, "n": 2}\n')
        git(migrated, "commit", "-qam", "external")
        Counter.objects.using(W).filter(pk=1).update(n=3)
    assert read_jsonl(migrated, "jlg_testapp_counter") == [{"id": 1, "n": 2}]


def test_fresh_clone_opens_for_read_and_write(migrated: Path, tmp_path: Path) -> None:
    Counter.objects.create(n=7)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(migrated), str(clone)], check=True)
    point(clone)
    assert Counter.objects.using(R).get().n == 7
    Counter.objects.create(n=8)
    assert [r["n"] for r in read_jsonl(clone, "jlg_testapp_counter")] == [7, 8]
    assert commits(clone) == commits(migrated) + 1


def test_read_engine_never_writes(migrated: Path) -> None:
    Counter.objects.create(n=1)
    head = git(migrated, "rev-parse", "HEAD")
    with pytest.raises(OperationalError, match="readonly"):
        Counter.objects.using(R).create(n=2)
    with pytest.raises(OperationalError, match="readonly"), connections[R].cursor() as cur:
        cur.execute("DELETE FROM jlg_testapp_counter")
    assert git(migrated, "rev-parse", "HEAD") == head
    assert git(migrated, "status", "--porcelain") == ""


def test_ref_time_travel(migrated: Path) -> None:
    Counter.objects.create(n=1)
    git(migrated, "tag", "v1")
    first = git(migrated, "rev-parse", "HEAD").strip()
    Counter.objects.filter(pk=1).update(n=2)
    Counter.objects.create(n=3)
    for ref in ("v1", first, first[:8]):
        point(migrated, ref=ref)
        assert list(Counter.objects.using(R).values_list("n", flat=True)) == [1]
    point(migrated, ref="HEAD~1")
    assert list(Counter.objects.using(R).values_list("n", flat=True)) == [2]
    point(migrated, ref="no-such-ref")
    with pytest.raises(OperationalError, match="no-such-ref"):
        Counter.objects.using(R).count()


def test_malformed_line_names_file_and_line(migrated: Path) -> None:
    Counter.objects.create(n=1)
    path = migrated / "jlg_testapp_counter.jsonl"
    path.write_text('{"id": 1, "n": 1}\n{"id": 2, "n": \n')
    git(migrated, "commit", "-qam", "broken")
    with pytest.raises(DatabaseError, match=r"jlg_testapp_counter\.jsonl:2: not valid JSON"):
        Counter.objects.using(R).count()
    path.write_text('{"id": 1, "n": 1}\n{"id": 2, "m": 1}\n')
    git(migrated, "commit", "-qam", "wrong key")
    with pytest.raises(
        DatabaseError, match=r"counter\.jsonl:2: keys do not match.*unknown \['m'\]"
    ):
        Counter.objects.using(R).count()


def test_committed_conflict_marker_names_file_and_line(migrated: Path) -> None:
    Counter.objects.create(n=1)
    path = migrated / "jlg_testapp_counter.jsonl"
    path.write_text('<<<<<<< HEAD\n{"id": 1, "n": 1}\n=======\n{"id": 1, "n": 2}\n>>>>>>> b\n')
    git(migrated, "commit", "-qam", "conflict committed")
    with pytest.raises(DatabaseError, match=r"counter\.jsonl:1: merge-conflict marker"):
        Counter.objects.using(R).count()


def test_unresolved_merge_names_file_and_line(migrated: Path) -> None:
    Counter.objects.create(n=1)
    git(migrated, "checkout", "-qb", "side")
    Counter.objects.filter(pk=1).update(n=2)
    git(migrated, "checkout", "-q", "-")
    point(migrated)
    Counter.objects.filter(pk=1).update(n=3)
    subprocess.run(["git", "-C", str(migrated), "merge", "-q", "side"], capture_output=True)
    point(migrated)
    with pytest.raises(DatabaseError, match=r"jlg_testapp_counter\.jsonl:1: merge-conflict marker"):
        Counter.objects.using(R).count()


def test_uncommitted_edit_is_not_overwritten(migrated: Path) -> None:
    Counter.objects.create(n=1)
    path = migrated / "jlg_testapp_counter.jsonl"
    path.write_text('{"id": 1, "n": 5}\n')
    with pytest.raises(OperationalError, match="uncommitted changes"):
        Counter.objects.create(n=2)
    assert path.read_text() == '{"id": 1, "n": 5}\n'
    assert Counter.objects.using(W).count() == 1  # the copy was rolled back to HEAD


def test_lock_timeout_is_an_error_not_a_hang(migrated: Path) -> None:
    Counter.objects.create(n=1)
    other = GitStore(migrated, create=False)
    other.acquire(1)
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            Counter.objects.create(n=2)
    finally:
        other.close()
    Counter.objects.create(n=3)
    assert [r["n"] for r in read_jsonl(migrated, "jlg_testapp_counter")] == [1, 3]


def test_recovers_half_done_write(migrated: Path) -> None:
    Counter.objects.create(n=1)
    store = GitStore(migrated, create=False)
    store.state_dir.mkdir(exist_ok=True)
    # A writer died after renaming one file and before moving HEAD.
    store.journal_path.write_text(
        json.dumps(
            {
                "base": None,
                "new": "0" * 40,
                "paths": ["jlg_testapp_counter.jsonl", "jlg_testapp_new.jsonl"],
            }
        )
    )
    (migrated / "jlg_testapp_counter.jsonl").write_text('{"id": 1, "n": 999}\n')
    (migrated / "jlg_testapp_new.jsonl").write_text("{}\n")
    (Path(store.git_dir) / "index.lock").write_text("")
    store.close()
    point(migrated)
    Counter.objects.create(n=2)  # opening + the write lock run recovery first
    assert [r["n"] for r in read_jsonl(migrated, "jlg_testapp_counter")] == [1, 2]
    assert not (migrated / "jlg_testapp_new.jsonl").exists()
    assert git(migrated, "status", "--porcelain") == ""


def test_router_split_and_migrate_database(migrated: Path) -> None:
    a = Author.objects.create(name="A")  # db_for_write → json-git
    Book.objects.create(title="B", author=a)
    book = Book.objects.get()  # db_for_read → json-git-read
    assert book._state.db == R
    assert book.author.name == "A"
    assert book.author._state.db == R
    tags = [Tag.objects.create(name=n) for n in "xy"]
    book.tags.set(tags)  # relation writes from a read-routed instance go to json-git
    assert sorted(t.name for t in Book.objects.get().tags.all()) == ["x", "y"]
    assert len(read_jsonl(migrated, "jlg_testapp_book_tags")) == 2


def test_test_database_is_never_the_real_directory(migrated: Path) -> None:
    creation = connections[W].creation
    assert Path(creation._get_test_db_name()) == migrated.parent / "test_data"
    saved = connections[W].settings_dict["TEST"]
    connections[W].settings_dict["TEST"] = {**saved, "NAME": str(migrated)}
    try:
        with pytest.raises(ImproperlyConfigured, match="real repository"):
            creation._get_test_db_name()
    finally:
        connections[W].settings_dict["TEST"] = saved
    with pytest.raises(ImproperlyConfigured, match="MIRROR"):
        connections[R].creation._create_test_db(0, True)


def test_create_and_destroy_test_db(migrated: Path) -> None:
    conn = connections[W]
    saved = dict(conn.settings_dict)
    try:
        name = conn.creation.create_test_db(verbosity=0, autoclobber=True)
        assert name == str(migrated.parent / "test_data")
        assert (Path(name) / "django_migrations.jsonl").exists()
        conn.creation.destroy_test_db(saved["NAME"], verbosity=0)
        assert not Path(name).exists()
    finally:
        conn.settings_dict.update(saved)
        conn.close()
    assert (migrated / "schema.sql").exists()


def test_vacuum_is_refused(migrated: Path) -> None:
    from django.db import NotSupportedError

    with pytest.raises(NotSupportedError, match="VACUUM"), connections[W].cursor() as cur:
        cur.execute("VACUUM")


def test_autocommit_off_commits_once_on_commit(migrated: Path) -> None:
    start = commits(migrated)
    transaction.set_autocommit(False, using=W)
    try:
        Counter.objects.create(n=1)
        Counter.objects.create(n=2)
        assert commits(migrated) == start
        transaction.commit(using=W)
    finally:
        transaction.set_autocommit(True, using=W)
    assert commits(migrated) == start + 1
    assert [r["n"] for r in read_jsonl(migrated, "jlg_testapp_counter")] == [1, 2]


def test_raw_sql_transaction_commit(migrated: Path) -> None:
    start = commits(migrated)
    with connections[W].cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("INSERT INTO jlg_testapp_counter (n) VALUES (%s)", [5])
        cur.execute("INSERT INTO jlg_testapp_counter (n) VALUES (%s)", [6])
        cur.execute("COMMIT")
    assert commits(migrated) == start + 1
    assert [r["n"] for r in read_jsonl(migrated, "jlg_testapp_counter")] == [5, 6]


def test_on_commit_runs_after_the_git_commit(migrated: Path) -> None:
    seen = []
    with transaction.atomic(using=W):
        Counter.objects.create(n=1)
        transaction.on_commit(lambda: seen.append(commits(migrated)), using=W)
    assert seen == [commits(migrated)]


def test_table_remake_keeps_later_row_patches_right(migrated: Path) -> None:
    """A remade table (new rowids) with identical rows must not confuse later row patches."""
    from django.db import models

    ids = [uuid.UUID(int=n) for n in (3, 1, 2)]
    Book.objects.bulk_create([Book(id=i, title=f"t{i.int}") for i in ids])
    old = Book._meta.get_field("title")
    new = models.CharField(max_length=200)
    new.set_attributes_from_name("title")
    with connections[W].schema_editor() as editor:
        editor.alter_field(Book, old, new)  # SQLite: table remake, rows copied
    Book.objects.filter(id=uuid.UUID(int=2)).update(title="changed")
    got = {r["id"]: r["title"] for r in read_jsonl(migrated, "jlg_testapp_book")}
    assert got == {
        str(uuid.UUID(int=1)): "t1",
        str(uuid.UUID(int=2)): "changed",
        str(uuid.UUID(int=3)): "t3",
    }
    connections[R].close()
    assert dict(Book.objects.using(R).values_list("id", "title")) == {
        uuid.UUID(int=1): "t1",
        uuid.UUID(int=2): "changed",
        uuid.UUID(int=3): "t3",
    }


def test_threads_have_own_connections_and_serialise_writes(migrated: Path) -> None:
    import threading

    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(5):
                Counter.objects.create(n=k * 100 + i)  # autocommit: lock, sync to HEAD, commit
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(k,)) for k in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    got = sorted(r["n"] for r in read_jsonl(migrated, "jlg_testapp_counter"))
    assert got == sorted(k * 100 + i for k in (1, 2, 3) for i in range(5))


def test_is_usable_reports_a_closed_connection(migrated: Path) -> None:
    conn = connections[W]
    conn.ensure_connection()
    assert conn.is_usable()
    conn._close()  # the SQLite copy disappears under the wrapper
    assert not conn.is_usable()
    conn.close()
    assert Counter.objects.using(W).count() == 0 and conn.is_usable()


def test_packed_objects_are_read_too(migrated: Path) -> None:
    """Loose objects are read in-process; after `git gc` (or in a fresh clone) they are packed
    and read through git."""
    Counter.objects.create(n=7)
    (migrated / "notes").mkdir()
    (migrated / "notes" / "README").write_text("not a table\n")
    git(migrated, "add", "notes")
    git(migrated, "commit", "-qm", "a subdirectory is not a table")
    point(migrated)
    loose = GitStore(migrated, create=False)
    head = loose.head()
    assert head is not None
    expected = {i.name: Entry(i.mode, i.binsha) for i in loose.repo.commit(head).tree}
    assert loose._loose_tree(head) == expected and expected["notes"].mode == 0o040000
    git(migrated, "gc", "-q", "--prune=now")
    packed = GitStore(migrated, create=False)
    assert packed._loose_tree(head) is None  # nothing loose any more: the git path reads it
    assert packed.tree(head) == expected
    name = "jlg_testapp_counter.jsonl"
    assert packed.read_blob(expected[name].binsha) == (migrated / name).read_bytes()
    loose.close()
    packed.close()
    assert list(Counter.objects.using(R).values_list("n", flat=True)) == [7]
    Counter.objects.create(n=8)
    assert list(Counter.objects.using(R).values_list("n", flat=True)) == [7, 8]
