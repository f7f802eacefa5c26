"""MkDocs hooks (mkdocs.yml ``hooks:``): pages that follow the repository as it is.

- ``<!-- include: path/from/repo/root.md -->`` puts that file's text in the page (its
  relative links become plain text: they point into the repository, not the site).
- ``<!-- reports: conformance -->`` / ``<!-- reports: benchmarks -->`` puts every generated
  report ``docs/<kind>/*.md`` in the page, or says there is none yet.
- ``<!-- backend-status -->`` renders the backend table with each package's real status.
- A backend page ``docs/backends/<name>.md`` that its worker has not written yet is generated
  as a placeholder that says so, so the nav and the links never break.

No network access: everything is read from the checkout at build time.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# name -> (package dir, ENGINE, store, wire)
BACKENDS: dict[str, tuple[str, str, str, str]] = {
    "d1": ("django-d1", "django_d1", "Cloudflare D1", "D1 REST API (httpx)"),
    "dbms": (
        "django-dbms",
        "django_dbms",
        "Durable Object SQLite (workers-dbms)",
        "websocket (websockets)",
    ),
    "prisma": (
        "django-prisma",
        "django_prisma",
        "Prisma Accelerate / Prisma Postgres",
        "Accelerate HTTP (httpx)",
    ),
    "astra": ("django-astra", "django_astra", "Astra DB / Cassandra", "CQL (cassandra-driver)"),
    "jsonlines_git": (
        "django-jsonlines-git",
        "django_jsonlines_git.read / .write",
        "git repository of JSONLines files",
        "GitPython",
    ),
}

DIRECTIVE = re.compile(r"<!--\s*(include|reports|backend-status)\s*:?\s*([^>]*?)\s*-->")
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def _engine_modules(name: str) -> list[str]:
    engine = BACKENDS[name][1]
    if " / ." in engine:  # "pkg.read / .write"
        first, second = engine.split(" / ")
        base = first.rsplit(".", 1)[0]
        return [f"{first}.base", f"{base}{second}.base"]
    return [f"{engine}.base"]


_STATUS: dict[str, str] = {}


def backend_status_of(name: str) -> str:
    """ "not implemented yet", "in development" or "available", judged from the checkout.

    A skeleton's base module raises ImproperlyConfigured("... not implemented yet ...").
    A backend whose engine imports is "in development" until its worker writes its docs page
    (docs/backends/<name>.md), then "available"; its conformance figures say how far it goes.
    """
    if name not in _STATUS:
        status = "in development"
        for module in _engine_modules(name):
            try:
                importlib.import_module(module)
            except Exception as exc:  # a skeleton, or a backend that does not import
                status = (
                    "not implemented yet"
                    if "not implemented yet" in str(exc)
                    else f"does not import yet ({type(exc).__name__})"
                )
                break
        if status == "in development" and (DOCS / "backends" / f"{name}.md").exists():
            status = "available"
        _STATUS[name] = status
    return _STATUS[name]


def _is_external(target: str) -> bool:
    return target.startswith(("http://", "https://", "mailto:", "#", "/"))


def repo_links_to_text(text: str, source: str) -> str:
    """Relative links in a repository file do not resolve in the site: keep the words only."""

    def swap(m: re.Match[str]) -> str:
        bang, label, target = m.groups()
        if _is_external(target):
            return m.group(0)
        if bang:
            return f"*(image: {label or target})*"
        return f"{label} (`{(Path(source).parent / target).as_posix()}`)"

    return _outside_fences(text, lambda line: LINK.sub(swap, line))


def rebase_links(text: str, prefix: str) -> str:
    """Relative links of a report in docs/<kind>/ seen from another page: prefix them."""

    def swap(m: re.Match[str]) -> str:
        bang, label, target = m.groups()
        if _is_external(target):
            return m.group(0)
        return f"{bang}[{label}]({prefix}{target})"

    return _outside_fences(text, lambda line: LINK.sub(swap, line))


def shift_headings(text: str, by: int) -> str:
    return _outside_fences(
        text, lambda line: ("#" * by + line) if re.match(r"#{1,5}\s", line) else line
    )


def _outside_fences(text: str, fn) -> str:
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            out.append(line)
        else:
            out.append(line if fenced else fn(line))
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def include(path: str) -> str:
    source = ROOT / path
    if not source.is_file():
        return f"!!! note\n    `{path}` does not exist yet.\n"
    return repo_links_to_text(source.read_text(encoding="utf-8"), path)


def reports(kind: str, page_src: str) -> str:
    folder = DOCS / kind
    found = sorted(folder.glob("*.md")) if folder.is_dir() else []
    if not found:
        cmd = (
            "make conformance BACKEND=<name> SET=smoke"
            if kind == "conformance"
            else ("make bench BACKEND=<name>")
        )
        return f"No {kind} report has been generated yet. `{cmd}` writes one to `docs/{kind}/`.\n"
    depth = page_src.count("/")
    prefix = "../" * depth + f"{kind}/"
    parts = [conformance_summary(found)] if kind == "conformance" else []
    for md in found:
        body = md.read_text(encoding="utf-8").strip()
        if not body.lstrip().startswith("#"):
            body = f"# {md.stem}\n\n{body}"
        body = anchor_first_heading(body, report_anchor(kind, md.stem))
        parts.append(shift_headings(rebase_links(body, prefix), 1))
        json_file = md.with_suffix(".json")
        if json_file.exists():
            parts.append(f"Raw data: [{json_file.name}]({prefix}{json_file.name})")
    return "\n\n".join(parts) + "\n"


def report_anchor(kind: str, stem: str) -> str:
    """The id a report's section gets on the results page, so backend pages can link to it."""
    return f"{kind}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", stem)


def anchor_first_heading(text: str, anchor: str) -> str:
    """Give the first heading an explicit id (attr_list), whatever its title says."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"#{1,6}\s", line):
            lines[i] = re.sub(r"\s*\{#[^}]*\}\s*$", "", line.rstrip()) + f" {{#{anchor}}}"
            break
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def conformance_summary(found: list[Path]) -> str:
    """One row per conformance report, from its .json (whatever fields it has)."""
    rows = [
        "| backend | Django | set | found | passed | failed + errors | skipped | passed ÷ found "
        "| run |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for md in found:
        try:
            data = json.loads(md.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        totals = data.get("totals") or {}

        def num(key: str, totals: dict = totals) -> str:
            value = totals.get(key)
            return f"{value:,}" if isinstance(value, int) else "?"

        rate = totals.get("pass_rate")
        rows.append(
            f"| {data.get('backend', md.stem)} | {data.get('django', '?')} "
            f"| {data.get('set', '?')} | {num('found')} | {num('passed')} "
            f"| {num('failed_errors')} | {num('skipped')} "
            f"| {f'{rate:.1%}' if isinstance(rate, (int, float)) else '?'} "
            f"| {data.get('finished_at', '?')} |"
        )
    if len(rows) == 2:
        return ""
    return "## Summary\n\n" + "\n".join(rows) + "\n"


def backend_status(page_src: str) -> str:
    depth = page_src.count("/")
    up = "../" * depth
    rows = [
        "| backend | package | ENGINE | store | wire | status |",
        "|---|---|---|---|---|---|",
    ]
    for name, (package, engine, store, wire) in BACKENDS.items():
        status = backend_status_of(name)
        engines = " / ".join(f"`{e.strip()}`" for e in engine.split("/"))
        rows.append(
            f"| [{name}]({up}backends/{name}.md) | `{package}` | {engines} | {store} | {wire} "
            f"| {status} |"
        )
    return "\n".join(rows) + "\n"


def placeholder(name: str) -> str:
    package, engine, store, wire = BACKENDS[name]
    status = backend_status_of(name)
    state = (
        "**Not implemented yet.** The package is a skeleton: selecting its ENGINE raises "
        "`ImproperlyConfigured`."
        if status == "not implemented yet"
        else f"**Status: {status}.** The backend's documentation page is not written yet."
    )
    return (
        f"# {store} (`{package}`)\n\n{state} This page is a placeholder generated at build "
        f"time; the backend's own page replaces it when it lands.\n\n"
        f"- ENGINE: `{engine}`\n- store: {store}\n- wire: {wire}\n\n"
        f"## The package README\n\n" + shift_headings(include(f"packages/{package}/README.md"), 2)
    )


def on_config(config: Any) -> Any:
    _STATUS.clear()  # `mkdocs serve` rebuilds: look again
    return config


def on_files(files: Files, config: Any) -> Files:
    for name in BACKENDS:
        uri = f"backends/{name}.md"
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, content=placeholder(name)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    src = page.file.src_uri

    def expand(m: re.Match[str]) -> str:
        kind, arg = m.group(1), m.group(2).strip()
        if kind == "include":
            return include(arg)
        if kind == "reports":
            return reports(arg, src)
        return backend_status(src)

    markdown = DIRECTIVE.sub(expand, markdown)
    m = re.fullmatch(r"backends/(\w+)\.md", src)
    if m and m.group(1) in BACKENDS:
        markdown = markdown.rstrip("\n") + "\n\n" + measured_figures(m.group(1))
    return markdown


# Backends Django's own test suite does not apply to (no conformance plugin), and why.
NO_CONFORMANCE = {
    "astra": "django-astra stores cqlengine models (DjangoCassandraModel), not Django SQL "
    "models, so Django's own test suite does not apply (its features.py skips it and says "
    "why). Its behaviour is shown by `pytest packages/django-astra/tests` and by the party "
    "finder's row of `make demo` ([reference app](../reference-app.md#astra-the-party-finder)).",
}


def measured_figures(name: str) -> str:
    """Appended to each backend's page: its rows of the generated reports, and links to each."""
    folder = DOCS / "conformance"
    found = sorted(folder.glob(f"{name}-*.md")) if folder.is_dir() else []
    summary = conformance_summary(found).replace("## Summary\n\n", "")
    lines = [
        "## Measured figures",
        "",
        "*Generated from the runners' reports when the site was built.*",
        "",
    ]
    if summary:
        lines += [summary, "Conformance reports:", ""]
        for md in found:
            link = f"../results/conformance.md#{report_anchor('conformance', md.stem)}"
            raw = md.with_suffix(".json")
            extra = f" (raw data: [{raw.name}](../conformance/{raw.name}))" if raw.exists() else ""
            lines.append(f"- [{md.stem}]({link}){extra}")
    elif name in NO_CONFORMANCE:
        lines.append(f"No conformance report: {NO_CONFORMANCE[name]}")
    else:
        lines.append(f"No conformance report yet (`make conformance BACKEND={name} SET=smoke`).")
    bench = DOCS / "benchmarks" / f"{name}.md"
    if bench.exists():
        link = f"../results/benchmarks.md#{report_anchor('benchmarks', name)}"
        raw = bench.with_suffix(".json")
        extra = f" (raw data: [{raw.name}](../benchmarks/{raw.name}))" if raw.exists() else ""
        lines += ["", f"Benchmark report: [{name}]({link}){extra}."]
    else:
        lines.append(f"\nNo benchmark report yet (`make bench BACKEND={name}`).")
    return "\n".join(lines) + "\n"
