"""Prisma Schema Language (PSL) parser and ``schema.prisma`` -> Django models generator.

``python -m django_prisma.psl_parser schema.prisma > models.py``

The grammar (``psl.lark``) covers the whole language: datasource/generator/model/view/enum/
type blocks, ``?``/``[]`` (and legacy ``!``/``[T]``), ``Unsupported("...")``, every attribute
as generic ``@path(args)``/``@@path(args)`` (so ``@db.VarChar(255)``, ``@relation(...)``,
``@default(dbgenerated("..."))``), ``//`` comments and ``///`` doc comments. Parse errors
name the line and column.

Generated models are ``managed = False``. Foreign keys are named after their *column* minus
``_id`` (``content_type_id`` -> ``content_type``), not after Prisma's relation field (which
``prisma db pull`` names after the referenced table, e.g. ``django_content_type``);
``related_name`` is added when several keys of a model point at one target (Django's
``inspectdb`` rule), ``onDelete`` maps to ``on_delete``, and implicit many-to-many relations
(``_AToB`` tables) become explicit ``through`` models.
"""

from __future__ import annotations

import argparse
import hashlib
import keyword
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

__all__ = [
    "Attribute",
    "Call",
    "Constant",
    "Field",
    "Model",
    "Enum",
    "Schema",
    "PSLSyntaxError",
    "parse",
    "generate_models",
]


# --- AST ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Constant:
    """A bare identifier / path in an expression (``Cascade``, ``true``, ``env``)."""

    name: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()


@dataclass
class Attribute:
    name: str  # "id", "db.VarChar", "relation", ...
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)

    def arg(self, name: str, position: int | None = None, default: Any = None) -> Any:
        if name in self.kwargs:
            return self.kwargs[name]
        if position is not None and len(self.args) > position:
            return self.args[position]
        return default


@dataclass
class Field:
    name: str
    type: str
    optional: bool = False
    list: bool = False
    unsupported: str | None = None
    attributes: list[Attribute] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)

    def attr(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)


@dataclass
class Model:
    name: str
    kind: str = "model"  # model | view | type
    fields: list[Field] = field(default_factory=list)
    attributes: list[Attribute] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)

    def attr(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    def attrs(self, name: str) -> list[Attribute]:
        return [a for a in self.attributes if a.name == name]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass
class Enum:
    name: str
    values: list[tuple[str, str]] = field(default_factory=list)  # (name, mapped db value)
    attributes: list[Attribute] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)


@dataclass
class Schema:
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    generators: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)
    enums: dict[str, Enum] = field(default_factory=dict)


class PSLSyntaxError(ValueError):
    """A schema.prisma syntax error; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int, context: str = "") -> None:
        super().__init__(
            f"line {line}, column {column}: {message}" + (f"\n{context}" if context else "")
        )
        self.line = line
        self.column = column


# --- parser ---------------------------------------------------------------------------------
class _PostLex:
    """Drop newlines inside (...) / [...] and merge runs of newlines."""

    always_accept = ("_NL",)

    def process(self, stream: Any) -> Any:
        depth = 0
        last_nl = False
        for tok in stream:
            if tok.type == "_NL":
                if depth > 0 or last_nl:
                    continue
                last_nl = True
                yield tok
                continue
            last_nl = False
            if tok.type in ("LPAR", "LSQB"):
                depth += 1
            elif tok.type in ("RPAR", "RSQB"):
                depth = max(depth - 1, 0)
            yield tok


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = (Path(__file__).with_name("psl.lark")).read_text()
    return Lark(grammar, parser="lalr", postlex=_PostLex(), propagate_positions=False)


def _unquote(token: str) -> str:
    import json

    return json.loads(token)


@v_args(inline=True)
class _ToAST(Transformer):  # type: ignore[type-arg]
    def string(self, tok: Token) -> str:
        return _unquote(str(tok))

    def number(self, tok: Token) -> int | float:
        text = str(tok)
        return float(text) if "." in text else int(text)

    def path(self, *names: Token) -> str:
        return ".".join(str(n) for n in names)

    def constant(self, path: str) -> Constant:
        return Constant(path)

    def array(self, *items: Any) -> list[Any]:
        return [i for i in items if i is not None]

    def named_arg(self, name: Token, value: Any) -> tuple[str, Any]:
        return (str(name), value)

    def positional_arg(self, value: Any) -> tuple[None, Any]:
        return (None, value)

    def arguments(self, *args: Any) -> list[tuple[str | None, Any]]:
        return [a for a in args if a is not None]

    def call(self, path: str, args: list[tuple[str | None, Any]]) -> Call:
        return Call(
            path,
            tuple(v for k, v in args if k is None),
            tuple((k, v) for k, v in args if k is not None),
        )

    def _attribute(self, path: str, args: list[Any] | None = None) -> Attribute:
        args = args or []
        return Attribute(
            path, [v for k, v in args if k is None], {k: v for k, v in args if k is not None}
        )

    def attribute(self, path: str, args: list[Any] | None = None) -> Attribute:
        return self._attribute(path, args)

    def block_attribute(self, path: str, args: list[Any] | None = None) -> Attribute:
        attr = self._attribute(path, args)
        attr.name = "@" + attr.name  # marks a block attribute until the model collects it
        return attr

    def block_attribute_line(self, attr: Attribute, doc: Token | None = None) -> Attribute:
        return attr

    def doc(self, tok: Token) -> str:
        return str(tok)[3:].strip()

    def doc_block(self, tok: Token) -> str:
        return str(tok)[3:].strip()

    def type_ref(self, name: Token) -> tuple[str, str | None]:
        return (str(name), None)

    def unsupported(self, name: Token, text: Token) -> tuple[str, str | None]:
        if str(name) != "Unsupported":
            raise ValueError(f"unknown type constructor {name}(...)")
        return ("Unsupported", _unquote(str(text)))

    def required(self, t: Any) -> tuple[Any, bool, bool]:
        return (t, False, False)

    legacy_required = required

    def optional(self, t: Any) -> tuple[Any, bool, bool]:
        return (t, True, False)

    def list(self, t: Any) -> tuple[Any, bool, bool]:
        return (t, False, True)

    legacy_list = list

    def field(self, name: Token, ftype: Any, *rest: Any) -> Field:
        (type_name, unsupported), optional, is_list = ftype
        attrs = [r for r in rest if isinstance(r, Attribute)]
        docs = [str(r)[3:].strip() for r in rest if isinstance(r, Token) and r.type == "DOC"]
        return Field(str(name), type_name, optional, is_list, unsupported, attrs, docs)

    def model_block(self, kind: Token, name: Token, *members: Any) -> Model:
        model = Model(str(name), str(kind))
        pending: list[str] = []
        for m in members:
            if isinstance(m, Field):
                m.docs = pending + m.docs
                pending = []
                model.fields.append(m)
            elif isinstance(m, Attribute):
                m.name = m.name[1:]
                model.attributes.append(m)
            elif isinstance(m, str):
                pending.append(m)
        return model

    def enum_value(self, name: Token, *rest: Any) -> tuple[str, str]:
        value = str(name)
        for r in rest:
            if isinstance(r, Attribute) and r.name == "map" and r.args:
                value = r.args[0]
        return (str(name), value)

    def enum_block(self, name: Token, *members: Any) -> Enum:
        enum = Enum(str(name))
        for m in members:
            if isinstance(m, tuple):
                enum.values.append(m)
            elif isinstance(m, Attribute):
                m.name = m.name[1:]
                enum.attributes.append(m)
        return enum

    def assignment(self, name: Token, value: Any, doc: Token | None = None) -> tuple[str, Any]:
        return (str(name), value)

    def config_block(
        self, kind: Token, name: Token, *items: Any
    ) -> tuple[str, str, dict[str, Any]]:
        return (str(kind), str(name), dict(i for i in items if isinstance(i, tuple)))

    def start(self, *blocks: Any) -> Schema:
        schema = Schema()
        docs: list[str] = []
        for b in blocks:
            if isinstance(b, str):
                docs.append(b)
            elif isinstance(b, Model):
                b.docs, docs = docs, []
                schema.models[b.name] = b
            elif isinstance(b, Enum):
                b.docs, docs = docs, []
                schema.enums[b.name] = b
            elif isinstance(b, tuple):
                kind, name, values = b
                (schema.datasources if kind == "datasource" else schema.generators)[name] = values
                docs = []
        return schema


def parse(text: str) -> Schema:
    """Parse a schema.prisma text; raises PSLSyntaxError naming line and column."""
    if not text.endswith("\n"):
        text += "\n"
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        if isinstance(exc, UnexpectedToken):
            found = "end of line" if exc.token.type == "_NL" else repr(str(exc.token))
            message = f"unexpected {found}"
        elif isinstance(exc, UnexpectedCharacters):
            message = f"unexpected character {text[exc.pos_in_stream]!r}"
        else:
            message = "unexpected end of input"
        line = getattr(exc, "line", None) or 0
        column = getattr(exc, "column", None) or 0
        if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
            message = "unexpected end of input (a block is not closed with '}'?)"
            line = 0
        if line <= 0:  # end of input
            line = text.count("\n") + 1
            column = 1
        raise PSLSyntaxError(message, line, column, exc.get_context(text).rstrip()) from None
    try:
        return _ToAST().transform(tree)
    except Exception as exc:  # lark wraps transformer errors
        orig = getattr(exc, "orig_exc", exc)
        raise PSLSyntaxError(str(orig), 0, 0) from None


# --- generator ------------------------------------------------------------------------------
_ON_DELETE = {
    "Cascade": "models.CASCADE",
    "Restrict": "models.RESTRICT",
    "NoAction": "models.DO_NOTHING",
    "SetNull": "models.SET_NULL",
    "SetDefault": "models.SET_DEFAULT",
}
_SCALARS = {
    "String": "TextField",
    "Int": "IntegerField",
    "BigInt": "BigIntegerField",
    "Float": "FloatField",
    "Decimal": "DecimalField",
    "Boolean": "BooleanField",
    "DateTime": "DateTimeField",
    "Json": "JSONField",
    "Bytes": "BinaryField",
}


def _ident(name: str) -> str:
    out = re.sub(r"\W", "_", name)
    if not out or out[0].isdigit():
        out = "f_" + out
    if keyword.iskeyword(out):
        out += "_field"
    return out


def _py(value: Any) -> str:
    if isinstance(value, Constant):
        if value.name in ("true", "false"):
            return "True" if value.name == "true" else "False"
        return repr(value.name)
    if isinstance(value, list):
        return "[" + ", ".join(_py(v) for v in value) + "]"
    return repr(value)


def _names(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, Constant):
            out.append(item.name)
        elif isinstance(item, Call):  # e.g. [title(sort: Desc)]
            out.append(item.name)
        elif isinstance(item, str):
            out.append(item)
    return out


@dataclass
class _Relation:
    model: Model
    field: Field
    target: str
    fields: list[str]
    references: list[str]
    on_delete: str | None
    name: str | None


class _Generator:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.imports = {"from django.db import models"}
        self.lines: list[str] = []

    # helpers
    def db_table(self, model: Model) -> str:
        attr = model.attr("map")
        return attr.args[0] if attr and attr.args else model.name

    def column(self, f: Field) -> str:
        attr = f.attr("map")
        return attr.args[0] if attr and attr.args else f.name

    def pk_fields(self, model: Model) -> list[str]:
        single = [f.name for f in model.fields if f.attr("id")]
        if single:
            return single
        block = model.attr("id")
        return _names(block.arg("fields", 0, [])) if block else []

    def relations(self, model: Model) -> list[_Relation]:
        out = []
        for f in model.fields:
            if f.type not in self.schema.models or f.list:
                continue
            rel = f.attr("relation")
            if rel is None:
                continue
            fields = _names(rel.arg("fields", None, []))
            if not fields:
                continue
            on_delete = rel.kwargs.get("onDelete")
            out.append(
                _Relation(
                    model,
                    f,
                    f.type,
                    fields,
                    _names(rel.arg("references", None, [])),
                    on_delete.name if isinstance(on_delete, Constant) else None,
                    rel.arg("name", 0),
                )
            )
        return out

    def implicit_m2m(self) -> list[tuple[Model, Field, Model, Field, str]]:
        """Pairs of list relation fields with no ``fields:`` on either side."""
        seen = set()
        out = []
        for model in self.schema.models.values():
            for f in model.fields:
                if not f.list or f.type not in self.schema.models:
                    continue
                other = self.schema.models[f.type]
                rel = f.attr("relation")
                rel_name = rel.arg("name", 0) if rel else None
                back = [
                    g
                    for g in other.fields
                    if g.list
                    and g.type == model.name
                    and g is not f
                    and (
                        (g.attr("relation").arg("name", 0) if g.attr("relation") else None)
                        == rel_name
                    )
                ]
                if not back:
                    continue
                a, b = sorted([(model.name, f), (other.name, back[0])], key=lambda x: x[0])
                key = (a[0], b[0], rel_name)
                if key in seen:
                    continue
                seen.add(key)
                table = f"_{rel_name}" if rel_name else f"_{a[0]}To{b[0]}"
                out.append((self.schema.models[a[0]], a[1], self.schema.models[b[0]], b[1], table))
        return out

    def scalar(self, model: Model, f: Field, enum_classes: dict[str, str]) -> tuple[str, list[str]]:
        kw: list[str] = []
        native = next((a for a in f.attributes if a.name.startswith("db.")), None)
        native_name = native.name[3:] if native else None
        default = f.attr("default")
        default_call = (
            default.args[0]
            if default and default.args and isinstance(default.args[0], Call)
            else None
        )
        is_pk = f.attr("id") is not None and len(self.pk_fields(model)) == 1
        if f.type in self.schema.enums:
            cls = "CharField"
            enum = self.schema.enums[f.type]
            kw.append(f"max_length={max([len(v) for _, v in enum.values] + [1])}")
            kw.append(f"choices={enum_classes[f.type]}")
        elif f.type == "Unsupported" and f.unsupported == "interval":
            cls = "DurationField"  # what `prisma db pull` makes of a Django DurationField
        else:
            cls = _SCALARS.get(f.type, "TextField")
        if f.type == "String" and native_name in ("VarChar", "Char") and native and native.args:
            cls = "CharField"
            kw.append(f"max_length={native.args[0]}")
        elif f.type == "String" and native_name == "Uuid":
            cls = "UUIDField"
        elif f.type == "String" and native_name == "Inet":
            cls = "GenericIPAddressField"
        elif f.type == "Int" and native_name == "SmallInt":
            cls = "SmallIntegerField"
        elif f.type == "DateTime" and native_name == "Date":
            cls = "DateField"
        elif f.type in ("DateTime",) and native_name in ("Time", "Timetz"):
            cls = "TimeField"
        elif f.type == "Float" and native_name == "Real":
            cls = "FloatField"
        if f.type == "Decimal":
            p, s = (native.args + [65, 30])[:2] if native_name == "Decimal" and native else (65, 30)
            kw += [f"max_digits={p}", f"decimal_places={s}"]
        if default_call and default_call.name == "autoincrement" and is_pk:
            cls = {"Int": "AutoField", "BigInt": "BigAutoField"}.get(f.type, cls)
            if native_name == "SmallInt":
                cls = "SmallAutoField"
        if f.list:
            self.imports.add("from django.contrib.postgres.fields import ArrayField")
            inner_kw = ", ".join(kw)
            array_of = f"models.{cls}({inner_kw})"
            cls_expr = "ArrayField"
            kw = [array_of]
        else:
            cls_expr = f"models.{cls}"
        if is_pk:
            kw.insert(0, "primary_key=True")
        if f.attr("unique") and not is_pk:
            kw.append("unique=True")
        if f.optional:
            kw.append("blank=True, null=True")
        if default is not None and default.args:
            value = default.args[0]
            if isinstance(value, Call):
                if value.name == "now":
                    self.imports.add("from django.utils import timezone")
                    kw.append("default=timezone.now")
                elif value.name == "uuid":
                    self.imports.add("import uuid")
                    kw.append("default=uuid.uuid4")
                elif value.name in ("cuid", "nanoid", "ulid"):
                    self.imports.add("from django_prisma import defaults as prisma_defaults")
                    kw.append(f"default=prisma_defaults.{value.name}")
                elif value.name == "dbgenerated":
                    self.imports.add("from django.db.models.expressions import RawSQL")
                    sql = value.args[0] if value.args else ""
                    kw.append(f"db_default=RawSQL({sql!r}, [])")
                # autoincrement()/sequence()/auto(): the database fills the value.
            elif isinstance(value, Constant) and f.type in self.schema.enums:
                kw.append(f"default={enum_classes[f.type]}.{_ident(value.name)}")
            elif isinstance(value, list):
                kw.append(f"default=list")  # noqa: F541 - literal arrays: see comment
            else:
                kw.append(f"default={_py(value)}")
        if f.attr("updatedAt"):
            kw.append("auto_now=True")
        name = _ident(f.name)
        column = self.column(f)
        if column != name:
            kw.append(f"db_column={column!r}")
        if f.docs:
            kw.append(f"db_comment={' '.join(f.docs)!r}")
        return name, [f"{name} = {cls_expr}({', '.join(kw)})"]

    def generate(self) -> str:
        schema = self.schema
        out: list[str] = []
        enum_classes: dict[str, str] = {}
        for enum in schema.enums.values():
            cls = _ident(enum.name)
            enum_classes[enum.name] = cls
            out.append(f"class {cls}(models.TextChoices):")
            for name, value in enum.values:
                out.append(f"    {_ident(name)} = {value!r}, {name!r}")
            if not enum.values:
                out.append("    pass")
            out.append("")
            out.append("")
        m2m = self.implicit_m2m()
        m2m_on: dict[str, list[tuple[Field, Model, Field, str, bool]]] = {}
        for a, fa, b, fb, table in m2m:
            m2m_on.setdefault(a.name, []).append((fa, b, fb, table, a is b))
        for model in schema.models.values():
            if model.kind == "type":
                out.append(f"# composite type {model.name} skipped: MongoDB only")
                out.append("")
                continue
            out += self.model_class(model, enum_classes, m2m_on.get(model.name, []))
        for a, _fa, b, _fb, table in m2m:
            out += self.through_model(a, b, table)
        header = sorted(self.imports, key=lambda s: (not s.startswith("import"), s))
        text = (
            "# Generated by django_prisma.psl_parser from a Prisma schema.\n"
            "# managed = False: Prisma (prisma migrate) owns the tables.\n"
            + "\n".join(header)
            + "\n\n\n"
            + "\n".join(out).rstrip()
            + "\n"
        )
        return text

    def model_class(
        self,
        model: Model,
        enum_classes: dict[str, str],
        m2m: list[tuple[Field, Model, Field, str, bool]],
    ) -> list[str]:
        lines = [f"class {_ident(model.name)}(models.Model):"]
        if model.docs:
            lines.append(f'    """{" ".join(model.docs)}"""')
            lines.append("")
        relations = self.relations(model)
        fk_columns = {r.fields[0]: r for r in relations if len(r.fields) == 1}
        target_count: dict[str, int] = {}
        used_targets: set[str] = set()
        for r in relations:
            target_count[r.target] = target_count.get(r.target, 0) + 1
        body: list[str] = []
        pk = self.pk_fields(model)
        for f in model.fields:
            if f.attr("ignore"):
                body.append(f"# {f.name}: @ignore")
                continue
            if f.type == "Unsupported" and f.unsupported != "interval":
                body.append(f"# {f.name}: Unsupported({f.unsupported!r}) skipped")
                continue
            if f.type in schema_models(self):
                rel = next((r for r in relations if r.field is f), None)
                if rel is not None and len(rel.fields) > 1:
                    body.append(
                        f"# {f.name}: composite foreign key ({', '.join(rel.fields)}) -> "
                        f"{rel.target}; Django has no multi-column ForeignKey"
                    )
                continue  # relation fields become FKs on their scalar; back-relations skipped
            if f.name in fk_columns:
                body.append(self.foreign_key(model, f, fk_columns[f.name], used_targets, pk))
                continue
            _, field_lines = self.scalar(model, f, enum_classes)
            body += field_lines
        for fa, other, fb, table, self_ref in m2m:
            through = (
                _ident(table.lstrip("_")) + "Through" if table.startswith("_") else _ident(table)
            )
            extra = ', through_fields=("A", "B")' if self_ref else ""
            body.append(
                f"{_ident(fa.name)} = models.ManyToManyField({_ident(other.name)!r}, "
                f"through={through!r}{extra}, related_name={_ident(fb.name)!r})"
            )
        lines += ["    " + b for b in body] or ["    pass"]
        meta = ["managed = False", f"db_table = {self.db_table(model)!r}"]
        if len(pk) > 1:
            lines.append(
                f"    pk = models.CompositePrimaryKey({', '.join(repr(self._attname(model, n, fk_columns)) for n in pk)})"
            )
        constraints, indexes = [], []
        for attr in model.attrs("unique"):
            cols = _names(attr.arg("fields", 0, []))
            fields = [self._attname(model, c, fk_columns) for c in cols]
            name = (
                attr.kwargs.get("map")
                or attr.kwargs.get("name")
                or f"{self.db_table(model)}_{'_'.join(cols)}_key"
            )
            constraints.append(f"models.UniqueConstraint(fields={fields!r}, name={name!r})")
        for attr in model.attrs("index"):
            cols = _names(attr.arg("fields", 0, []))
            fields = [self._attname(model, c, fk_columns) for c in cols]
            name = (
                attr.kwargs.get("map")
                or attr.kwargs.get("name")
                or _index_name(self.db_table(model), cols)
            )
            if len(name) > 30:  # Django's models.E034 limit; the database name is kept as a note
                lines.append(f"    # index {name!r} is named {_short_name(name)!r} in Django")
                name = _short_name(name)
            indexes.append(f"models.Index(fields={fields!r}, name={name!r})")
        if constraints:
            meta.append(f"constraints = [{', '.join(constraints)}]")
        if indexes:
            meta.append(f"indexes = [{', '.join(indexes)}]")
        lines.append("")
        lines.append("    class Meta:")
        lines += ["        " + m for m in meta]
        lines += ["", ""]
        return lines

    def _attname(self, model: Model, scalar: str, fk_columns: dict[str, _Relation]) -> str:
        if scalar in fk_columns:
            return self._fk_name(model, model.field(scalar))[0]  # type: ignore[arg-type]
        return _ident(scalar)

    def _fk_name(self, model: Model, f: Field) -> tuple[str, str | None]:
        column = self.column(f)
        if column.endswith("_id") and len(column) > 3:
            return _ident(column[:-3]), None
        return _ident(f.name), column

    def foreign_key(
        self, model: Model, f: Field, rel: _Relation, used_targets: set[str], pk: list[str]
    ) -> str:
        target = self.schema.models[rel.target]
        name, db_column = self._fk_name(model, f)
        unique = f.attr("unique") is not None or any(
            _names(a.arg("fields", 0, [])) == [f.name] for a in model.attrs("unique")
        )
        cls = "OneToOneField" if unique or (pk == [f.name]) else "ForeignKey"
        target_ref = "'self'" if target is model else repr(_ident(target.name))
        on_delete = _ON_DELETE.get(rel.on_delete or "", None)
        if on_delete is None:  # Prisma defaults: SetNull for optional, Restrict for required
            on_delete = "models.SET_NULL" if f.optional else "models.RESTRICT"
        kw = [target_ref, on_delete]
        if db_column:
            kw.append(f"db_column={db_column!r}")
        target_pk = self.pk_fields(target)
        if rel.references and rel.references != target_pk:
            kw.append(f"to_field={_ident(rel.references[0])!r}")
        if pk == [f.name]:
            kw.append("primary_key=True")
        if f.optional:
            kw.append("blank=True, null=True")
        if rel.target in used_targets:
            kw.append(f"related_name={model.name.lower() + '_' + name + '_set'!r}")
        used_targets.add(rel.target)
        return f"{name} = models.{cls}({', '.join(kw)})"

    def through_model(self, a: Model, b: Model, table: str) -> list[str]:
        cls = _ident(table.lstrip("_")) + "Through" if table.startswith("_") else _ident(table)
        pa, pb = _ident(a.name), _ident(b.name)
        return [
            f"class {cls}(models.Model):",
            f'    """Implicit many-to-many table {table} of {a.name} and {b.name}."""',
            "",
            '    pk = models.CompositePrimaryKey("A", "B")',
            f"    A = models.ForeignKey({pa!r}, models.CASCADE, db_column='A', related_name='+')",
            f"    B = models.ForeignKey({pb!r}, models.CASCADE, db_column='B', related_name='+')",
            "",
            "    class Meta:",
            "        managed = False",
            f"        db_table = {table!r}",
            "",
            "",
        ]


def schema_models(gen: _Generator) -> dict[str, Model]:
    return gen.schema.models


def _index_name(table: str, cols: list[str]) -> str:
    base = f"{table}_{'_'.join(cols)}_idx"
    if len(base) <= 30:
        return base
    digest = hashlib.sha1(base.encode()).hexdigest()[:6]
    return f"{table[:19]}_{digest}_idx"[:30]


def _short_name(name: str) -> str:
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[:21]}_{digest}"


def generate_models(schema: Schema | str) -> str:
    """Django ``models.py`` source for a parsed (or textual) schema."""
    if isinstance(schema, str):
        schema = parse(schema)
    return _Generator(schema).generate()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m django_prisma.psl_parser",
        description="Write Django models (managed=False) for a schema.prisma to stdout.",
    )
    ap.add_argument("schema", type=Path)
    args = ap.parse_args(argv)
    try:
        sys.stdout.write(generate_models(args.schema.read_text()))
    except PSLSyntaxError as exc:
        print(f"{args.schema}:{exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
