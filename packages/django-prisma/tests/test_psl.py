"""PSL grammar, the schema -> models generator, and the models -> schema -> models round trip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps
from django_prisma.psl_parser import Call, Constant, PSLSyntaxError, generate_models, parse
from django_prisma.psl_writer import schema_from_models

FIXTURES = Path(__file__).parent / "fixtures"


def load_models(code: str) -> dict[str, type[models.Model]]:
    """Exec generated models in an isolated app registry and run Django's system checks."""
    with isolate_apps("testapp") as registry:
        ns: dict = {"__name__": "testapp.generated"}
        exec(compile(code, "generated_models.py", "exec"), ns)
        found = {m.__name__: m for m in registry.get_models(include_auto_created=False)}
        errors = [e for m in found.values() for e in m.check() if e.level >= 40]
        assert errors == [], errors
        return found


def test_grammar_covers_the_language():
    schema = parse((FIXTURES / "blog.prisma").read_text())
    assert schema.datasources["db"]["provider"] == "postgresql"
    assert schema.generators["client"]["provider"] == "prisma-client-js"
    user = schema.models["User"]
    assert user.docs == ["A user"]
    assert user.field("name").optional and user.field("tags").list
    assert user.field("geo").unsupported == "geometry"
    assert user.field("email").attr("db.VarChar").args == [255]
    assert user.attr("map").args == ["users"]
    rel = schema.models["Post"].field("author").attr("relation")
    assert rel.args == ["author"] and rel.kwargs["onDelete"] == Constant("Cascade")
    assert schema.enums["Role"].values == [("USER", "USER"), ("ADMIN", "admin")]


def test_multiline_args_comments_legacy_forms_and_views():
    schema = parse(
        """
        datasource db {
          provider = "postgresql"
          url      = env("DATABASE_URL") // Prisma <= 6 form
        }
        view V {
          id Int @unique
          /// doc of x
          x  String // comment
          @@index([
            id,
            x(sort: Desc),
          ], map: "v_idx",)
        }
        model L {
          id Int @id
          xs [Int]
          y  String!
        }
        type Address {
          street String
        }
        """
    )
    assert schema.datasources["db"]["url"] == Call("env", ("DATABASE_URL",))
    v = schema.models["V"]
    assert v.kind == "view" and v.field("x").docs == ["doc of x"]
    assert v.attr("index").kwargs["map"] == "v_idx"
    assert schema.models["L"].field("xs").list and not schema.models["L"].field("y").optional
    assert schema.models["Address"].kind == "type"


@pytest.mark.parametrize(
    "text, line, column",
    [
        ("model A {\n  id Int @id\n  name String @default(\n}\n", 4, 1),
        ("model A {\n  id Int @id\n  ok String\n  bad = 1\n}\n", 4, 7),
        ("model A {\n  id Int @id\n", 3, 1),
        ("model A {\n  id Int @id\n  x Str#ng\n}\n", 3, 8),
    ],
)
def test_parse_errors_name_line_and_column(text, line, column):
    with pytest.raises(PSLSyntaxError) as exc:
        parse(text)
    assert (exc.value.line, exc.value.column) == (line, column)
    assert f"line {line}, column {column}" in str(exc.value)


def test_generated_models_follow_the_rules():
    text = (FIXTURES / "blog.prisma").read_text()
    code = generate_models(text)
    # Scalar lists need django.contrib.postgres (which imports psycopg): check the text, and
    # load the rest without it.
    assert "tags = ArrayField(models.TextField())" in code
    found = load_models(generate_models(text.replace("  tags      String[]\n", "")))
    user, post = found["User"], found["Post"]
    assert user._meta.managed is False and user._meta.db_table == "users"
    assert user._meta.get_field("createdAt").column == "created_at"
    assert user._meta.get_field("email").max_length == 255
    assert type(user._meta.get_field("extId")) is models.UUIDField
    author = post._meta.get_field("author")
    assert author.column == "author_id" and author.remote_field.on_delete is models.CASCADE
    reviewer = post._meta.get_field("reviewerId")
    assert reviewer.remote_field.on_delete is models.SET_NULL and reviewer.null
    assert reviewer.remote_field.related_name == "post_reviewerId_set"
    assert type(post._meta.get_field("id")) is models.BigAutoField
    cats = found["Category"]._meta.get_field("posts")
    assert cats.remote_field.through._meta.db_table == "_CategoryToPost"
    assert found["Membership"]._meta.pk.__class__.__name__ == "CompositePrimaryKey"


def test_db_pull_names_become_column_names():
    found = load_models(generate_models((FIXTURES / "django_auth.prisma").read_text()))
    perm = found["auth_permission"]
    fk = perm._meta.get_field("content_type")  # not django_content_type
    assert fk.column == "content_type_id"
    assert fk.remote_field.on_delete is models.DO_NOTHING
    transfer = found["app_transfer"]
    sender, receiver = transfer._meta.get_field("sender"), transfer._meta.get_field("receiver")
    assert sender.remote_field.related_name is None
    assert receiver.remote_field.related_name == "app_transfer_receiver_set"
    assert {f.name for f in found["django_content_type"]._meta.get_fields()} >= {
        "app_label",
        "model",
    }


def test_cli_prints_models_and_reports_errors(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "django_prisma.psl_parser", str(FIXTURES / "blog.prisma")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "class Post(models.Model):" in out.stdout
    bad = tmp_path / "bad.prisma"
    bad.write_text("model A {\n  id Int @id(\n}\n")
    err = subprocess.run(
        [sys.executable, "-m", "django_prisma.psl_parser", str(bad)], capture_output=True, text=True
    )
    assert err.returncode == 1 and "bad.prisma:line 3, column 1" in err.stderr


def _prisma_validate(path: Path) -> subprocess.CompletedProcess:
    """Prisma's own validator, offline (reference section 3: the CLI only needs the bundled
    wasm when PRISMA_SCHEMA_ENGINE_BINARY points at a dummy binary)."""
    import os
    import shutil

    from django_prisma.server import NodeUnavailable, ensure_installed, find_harness

    try:
        harness = find_harness()
        node = ensure_installed(harness)
    except NodeUnavailable as exc:
        pytest.skip(f"Node/npm unavailable: {exc}")
    oracle = harness / "validate"
    cli = oracle / "node_modules" / "prisma" / "build" / "index.js"
    if not cli.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm unavailable: cannot install the prisma CLI")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=oracle, check=True
        )
    env = {
        **os.environ,
        "PRISMA_SCHEMA_ENGINE_BINARY": "/bin/true",
        "PRISMA_HIDE_UPDATE_MESSAGE": "1",
        "CHECKPOINT_DISABLE": "1",
    }
    return subprocess.run(
        [str(node), str(cli), "validate", "--schema", str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=oracle,
        timeout=120,
    )


def test_prisma_validates_fixtures_and_our_output(tmp_path):
    for fixture in sorted(FIXTURES.glob("*.prisma")):
        result = _prisma_validate(fixture)
        assert result.returncode == 0 and "is valid" in result.stdout, result.stdout + result.stderr
    written = tmp_path / "schema.prisma"
    written.write_text(
        schema_from_models(apps.get_app_config("testapp").get_models(include_auto_created=True))
    )
    result = _prisma_validate(written)
    assert result.returncode == 0 and "is valid" in result.stdout, result.stdout + result.stderr
    broken = tmp_path / "broken.prisma"
    broken.write_text('datasource db {\n  provider = "postgresql"\n}\nmodel A {\n  b B\n}\n')
    assert _prisma_validate(broken).returncode != 0  # the oracle does reject invalid schemas


def _shape(model):
    out = {}
    for f in model._meta.local_fields:
        # PSL has no unsigned types: Positive*Field comes back as its signed base type.
        kind = f.get_internal_type().replace("Positive", "")
        if kind in ("CharField", "SlugField", "EmailField"):
            kind = ("CharField", f.max_length)
        related = f.related_model._meta.db_table if f.is_relation else None
        out[f.column] = (kind, f.null, f.unique, f.primary_key, related)
    return out


def test_round_trip_models_to_psl_to_models():
    originals = list(apps.get_app_config("testapp").get_models(include_auto_created=True))
    psl = schema_from_models(originals)
    parse(psl)  # valid for our grammar
    regenerated = load_models(generate_models(psl))
    by_table = {m._meta.db_table: m for m in regenerated.values()}
    for model in originals:
        again = by_table[model._meta.db_table]
        assert _shape(again) == _shape(model), model._meta.db_table
