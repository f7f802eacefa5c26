"""The MkDocs hook that includes generated reports, repository files and placeholder pages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def hooks(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "docs_hooks_under_test", ROOT / "docs" / "_hooks" / "docs_hooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "DOCS", tmp_path)
    return module


def test_no_reports_says_so(hooks):
    text = hooks.reports("conformance", "results/conformance.md")
    assert "No conformance report has been generated yet" in text
    assert "make conformance" in text


def test_reports_are_included_with_shifted_headings_and_rebased_links(hooks, tmp_path):
    folder = tmp_path / "benchmarks"
    folder.mkdir()
    (folder / "d1.md").write_text(
        "# D1 benchmarks\n\nSee [raw](d1.json) and [site](https://example.com).\n\n"
        "```\n# not a heading\n```\n## Details\n"
    )
    (folder / "d1.json").write_text("{}")
    (folder / "astra.md").write_text("no heading here\n")
    text = hooks.reports("benchmarks", "results/benchmarks.md")
    assert text.index("## astra") < text.index("## D1 benchmarks")  # sorted, titled
    assert "[raw](../benchmarks/d1.json)" in text
    assert "[site](https://example.com)" in text
    assert "\n# not a heading\n" in text  # code fences untouched
    assert "### Details" in text
    assert "Raw data: [d1.json](../benchmarks/d1.json)" in text


def test_repository_links_become_text(hooks):
    text = hooks.repo_links_to_text(
        "[server](src/server.py) and [docs](https://x.org) ![logo](logo.png)\n",
        "packages/django-d1/README.md",
    )
    assert "server (`packages/django-d1/src/server.py`)" in text
    assert "[docs](https://x.org)" in text
    assert "*(image: logo)*" in text


def test_missing_include_is_reported(hooks):
    assert "does not exist yet" in hooks.include("no/such/file.md")


def test_skeleton_backend_gets_an_honest_placeholder(hooks, monkeypatch):
    monkeypatch.setitem(hooks._STATUS, "astra", "not implemented yet")
    text = hooks.placeholder("astra")
    assert "**Not implemented yet.**" in text
    assert "placeholder generated at build time" in text


def test_status_of_a_module_that_raises_not_implemented(hooks, monkeypatch, tmp_path):
    def fake_import(name):
        raise Exception("django-x is not implemented yet; this release only reserves the name")

    monkeypatch.setattr(hooks.importlib, "import_module", fake_import)
    hooks._STATUS.clear()
    assert hooks.backend_status_of("d1") == "not implemented yet"
    hooks._STATUS.clear()
    monkeypatch.setattr(hooks.importlib, "import_module", lambda name: None)
    assert hooks.backend_status_of("d1") == "in development"  # imports, no page in tmp docs
    (tmp_path / "backends").mkdir()
    (tmp_path / "backends" / "d1.md").write_text("# D1\n")
    hooks._STATUS.clear()
    assert hooks.backend_status_of("d1") == "available"


def test_jsonlines_engine_modules(hooks):
    assert hooks._engine_modules("jsonlines_git") == [
        "django_jsonlines_git.read.base",
        "django_jsonlines_git.write.base",
    ]


def test_conformance_summary_from_json(hooks, tmp_path):
    folder = tmp_path / "conformance"
    folder.mkdir()
    (folder / "d1-5.2.19-smoke.md").write_text("# Conformance: d1\n")
    (folder / "d1-5.2.19-smoke.json").write_text(
        '{"backend": "d1", "django": "5.2.19", "set": "smoke", "finished_at": "T",'
        ' "totals": {"found": 2507, "passed": 2000, "failed_errors": 7, "skipped": 9,'
        ' "pass_rate": 0.7978}}'
    )
    (folder / "odd.md").write_text("# odd\n")  # no json: listed below, not in the summary
    text = hooks.reports("conformance", "results/conformance.md")
    assert "| d1 | 5.2.19 | smoke | 2,507 | 2,000 | 7 | 9 | 79.8% | T |" in text
    assert text.index("## Summary") < text.index("## Conformance: d1") < text.index("## odd")


def test_backend_pages_get_their_measured_figures(hooks, tmp_path):
    assert "No conformance report yet" in hooks.measured_figures("prisma")
    folder = tmp_path / "conformance"
    folder.mkdir()
    for backend in ("prisma", "sqlite3"):
        (folder / f"{backend}-5.2.19-smoke.md").write_text("# r\n")
        (folder / f"{backend}-5.2.19-smoke.json").write_text(
            f'{{"backend": "{backend}", "totals": {{"found": 10, "passed": 9}}}}'
        )
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "prisma.md").write_text("# b\n")
    (tmp_path / "benchmarks" / "prisma.json").write_text("{}")
    text = hooks.measured_figures("prisma")
    assert "| prisma |" in text and "| sqlite3 |" not in text
    # each report linked by the anchor its section gets on the results page, plus raw data
    assert (
        "- [prisma-5.2.19-smoke](../results/conformance.md#conformance-prisma-5-2-19-smoke)"
        " (raw data: [prisma-5.2.19-smoke.json](../conformance/prisma-5.2.19-smoke.json))"
    ) in text
    assert "[prisma](../results/benchmarks.md#benchmarks-prisma)" in text
    assert "[prisma.json](../benchmarks/prisma.json)" in text
    results = hooks.reports("conformance", "results/conformance.md")
    assert "## r {#conformance-prisma-5-2-19-smoke}" in results
    assert "{#benchmarks-prisma}" in hooks.reports("benchmarks", "results/benchmarks.md")


def test_a_report_heading_with_its_own_id_gets_ours(hooks):
    text = hooks.anchor_first_heading("intro\n# Title {#old}\n## Sub\n", "conformance-x")
    assert text == "intro\n# Title {#conformance-x}\n## Sub\n"


def test_astra_page_says_why_there_is_no_conformance_report(hooks):
    text = hooks.measured_figures("astra")
    assert "Django's own test suite does not apply" in text
    assert "reference-app.md#astra-the-party-finder" in text
