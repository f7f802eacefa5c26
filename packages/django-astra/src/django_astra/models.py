"""``DjangoCassandraModel``: cqlengine models that Django code (forms, admin, views) can use.

Differences from django-cassandra-engine, on purpose:
- ``obj.pk`` is the ``Meta.get_pk_field`` column; setting it never writes the partition key.
- ``objects.get(pk=...)`` accepts that column's value, or ``obj.pk_token`` (every primary-key
  value encoded) for clustering and composite keys.
- No implicit ALLOW FILTERING: filters outside the keys/indexes raise unless you call
  ``.allow_filtering()``.
- The keyspace and connection come from ``DATABASES`` at query time, not import time.
"""

from __future__ import annotations

import copy
import datetime
import json
import uuid
import warnings
from decimal import Decimal
from typing import Any

from cassandra import cqltypes
from cassandra.cqlengine import columns
from cassandra.cqlengine.connection import NOT_SET
from cassandra.cqlengine.functions import BaseQueryFunction, QueryValue
from cassandra.cqlengine.models import Model, ModelMetaClass, QuerySetDescriptor
from cassandra.cqlengine.operators import EqualsOperator
from cassandra.cqlengine.query import (
    AbstractQuerySet,
    DMLQuery,
    ModelQuerySet,
    QueryException,
    check_applied,
)
from cassandra.cqlengine.statements import WhereClause
from cassandra.metadata import protect_name
from django.db import connections as _connections

from .cqlengine_bridge import astra_aliases, execute_prepared_on, execute_statement

__all__ = [
    "DjangoCassandraModel",
    "DjangoCassandraQuerySet",
    "FilteringRequired",
    "Vector",
]


class FilteringRequired(QueryException):
    """A filter Cassandra would have to scan for; call ``.allow_filtering()`` to run it anyway."""


# ------------------------------------------------------------------ columns


class Vector(columns.Column):
    """``vector<float, N>`` column (Astra / Cassandra 5 vector search).

    ``similarity`` is the SAI ``similarity_function`` (cosine, dot_product, euclidean) used
    for the index ``manage.py sync_cassandra`` creates for this column.
    """

    def __init__(self, dimension: int, similarity: str = "cosine", **kwargs: Any):
        if dimension <= 0:
            raise ValueError("Vector dimension must be positive")
        self.dimension = int(dimension)
        self.similarity = similarity.upper()
        if self.similarity not in ("COSINE", "DOT_PRODUCT", "EUCLIDEAN"):
            raise ValueError("similarity must be cosine, dot_product or euclidean")
        kwargs.setdefault("custom_index", True)
        super().__init__(**kwargs)
        self.db_type = f"vector<float, {self.dimension}>"

    @property
    def cql_type(self) -> Any:
        return cqltypes.VectorType.apply_parameters([cqltypes.FloatType, self.dimension], None)

    def validate(self, value: Any) -> Any:
        value = super().validate(value)
        if value is None:
            return None
        value = [float(x) for x in value]
        if len(value) != self.dimension:
            raise columns.ValidationError(
                f"{self.column_name} needs {self.dimension} floats, got {len(value)}"
            )
        return value

    def to_python(self, value: Any) -> Any:
        return None if value is None else [float(x) for x in value]

    def to_database(self, value: Any) -> Any:
        return None if value is None else [float(x) for x in value]


# ------------------------------------------------------------------ _meta


class _PkField:
    """The Django-facing primary key (``Meta.get_pk_field``)."""

    def __init__(self, model: type, column: Any):
        self.model = model
        self.column = column
        self.name = self.attname = column.column_name
        self.primary_key = True

    def value_to_string(self, obj: Any) -> str:
        return str(getattr(obj, self.name))

    def to_python(self, value: Any) -> Any:
        return _parse(self.column, value)

    def get_attname(self) -> str:
        return self.name


class CassandraOptions:
    """The slice of Django's ``Options`` that views, forms and the admin helpers read."""

    abstract = False
    # Django's CompositePrimaryKey flag: False, because CassandraModelAdmin addresses rows by
    # ``pk_token`` itself and Django's ModelAdmin (which refuses composite pks) is not used.
    is_composite_pk = False
    proxy = False
    swapped = None
    managed = False
    auto_created = False
    many_to_many: list[Any] = []
    private_fields: list[Any] = []
    related_objects: list[Any] = []
    ordering: list[str] = []
    unique_together: tuple[Any, ...] = ()
    constraints: list[Any] = []
    indexes: list[Any] = []

    def __init__(self, model: type, meta: Any):
        from django.apps import apps

        self.model = model
        self.source_meta = meta
        self.object_name = model.__name__
        self.model_name = self.object_name.lower()
        self.verbose_name = getattr(meta, "verbose_name", None) or _camel_to_words(self.object_name)
        self.verbose_name_plural = (
            getattr(meta, "verbose_name_plural", None) or self.verbose_name + "s"
        )
        self.ordering = list(getattr(meta, "ordering", []) or [])
        cfg = apps.get_containing_app_config(model.__module__) if apps.apps_ready else None
        self.app_config = cfg
        self.app_label = getattr(meta, "app_label", None) or (
            cfg.label if cfg else model.__module__.split(".")[0]
        )
        self.label = f"{self.app_label}.{self.object_name}"
        self.label_lower = self.label.lower()
        self.db_table = model._raw_column_family_name()
        keys = list(model._primary_keys.values())
        pk_name = getattr(meta, "get_pk_field", None)
        if pk_name is None:
            if len(keys) != 1:
                raise RuntimeError(
                    f"{self.object_name} has a compound primary key ({', '.join(c.column_name for c in keys)}); "
                    "set Meta.get_pk_field to the column that identifies a row for Django code."
                )
            pk_name = keys[0].column_name
        if pk_name not in model._columns:
            raise RuntimeError(
                f"{self.object_name}.Meta.get_pk_field names unknown column {pk_name!r}"
            )
        self.pk = _PkField(model, model._columns[pk_name])
        self.primary_key_columns = [c.column_name for c in keys]
        self.partition_key_columns = [c.column_name for c in model._partition_keys.values()]
        self.clustering_columns = [c.column_name for c in model._clustering_keys.values()]
        self.composite = len(keys) > 1

    @property
    def fields(self) -> list[Any]:
        return list(self.model._columns.values())

    def get_field(self, name: str) -> Any:
        from django.core.exceptions import FieldDoesNotExist

        if name == "pk":
            return self.model._columns[self.pk.name]
        try:
            return self.model._columns[name]
        except KeyError:
            raise FieldDoesNotExist(f"{self.object_name} has no field named '{name}'") from None

    def __repr__(self) -> str:
        return f"<CassandraOptions for {self.object_name}>"


def _camel_to_words(name: str) -> str:
    out = ""
    for i, ch in enumerate(name):
        if ch.isupper() and i:
            out += " "
        out += ch.lower()
    return out


def _parse(column: Any, value: Any) -> Any:
    if value is None or not isinstance(value, str):
        return value
    if isinstance(column, (columns.UUID, columns.TimeUUID)):
        return uuid.UUID(value)
    if isinstance(
        column,
        (
            columns.Integer,
            columns.BigInt,
            columns.SmallInt,
            columns.TinyInt,
            columns.VarInt,
            columns.Counter,
        ),
    ):
        return int(value)
    if isinstance(column, (columns.Float, columns.Double)):
        return float(value)
    if isinstance(column, columns.Decimal):
        return Decimal(value)
    if isinstance(column, columns.Boolean):
        return value.lower() in ("1", "true", "yes", "on")
    if isinstance(column, columns.DateTime):
        return datetime.datetime.fromisoformat(value)
    if isinstance(column, columns.Date):
        return datetime.date.fromisoformat(value)
    return value


# ------------------------------------------------------------------ queryset


_MISS = object()


class DjangoCassandraQuerySet(ModelQuerySet):
    """cqlengine queryset + Django habits, without hiding what Cassandra refuses."""

    _python_order: tuple[str, ...] | None = None

    # cqlengine's AbstractQuerySet.__init__ values, as class defaults: querysets made from the
    # per-model template (see _QuerySetDescriptor) carry only what a query changed.
    _allow_filtering = False
    _limit: int | None = 10000
    _values_list = False
    _flat_values_list = False
    _result_cache: list[Any] | None = None
    _result_idx: int | None = None
    _result_generator: Any = None
    _materialize_results = True
    _distinct_fields: list[str] | None = None
    _count: int | None = None
    _batch: Any = None
    _ttl: int | None = None
    _consistency: int | None = None
    _timestamp: Any = None
    _if_not_exists = False
    _timeout: Any = NOT_SET
    _if_exists = False
    _fetch_size: int | None = None
    _connection: str | None = None

    # Reset on every clone: they belong to one execution (as in cqlengine's __deepcopy__).
    _PER_EXECUTION = frozenset(
        (
            "_con",
            "_cur",
            "_result_cache",
            "_result_idx",
            "_result_generator",
            "_construct_result",
        )
    )

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        """Clone for filter()/get(): copy containers and clauses, share the (immutable) values.

        cqlengine deep-copies every clause value on each chained call, which dominated a
        point read's client-side cost. Clauses (and their query values) are copied shallowly
        because cqlengine sets their context id while rendering a statement.
        """
        clone = _new(self.__class__)
        d = self.__dict__.copy()
        for k in self._PER_EXECUTION & d.keys():
            d[k] = None
        where = d["_where"]
        d["_where"] = [_copy_clause(c) for c in where] if where else []
        cond = d["_conditional"]
        d["_conditional"] = [_copy_clause(c) for c in cond] if cond else []
        d["_order"] = list(d["_order"])
        d["_only_fields"] = list(d["_only_fields"])
        d["_defer_fields"] = set(d["_defer_fields"])
        d["_deferred_values"] = dict(d["_deferred_values"])
        distinct = d.get("_distinct_fields")
        if distinct is not None:
            d["_distinct_fields"] = list(distinct)
        clone.__dict__ = d
        return clone

    def filter(self, *args: Any, **kwargs: Any) -> Any:
        kwargs = self._translate_pk(kwargs)
        if not args:
            clone = self._filter_equal(kwargs)
            if clone is not None:
                return clone
        return super().filter(*args, **kwargs)

    def _filter_equal(self, kwargs: dict[str, Any]) -> Any:
        """cqlengine's filter() for plain ``column=value`` equality, minus the operator parsing.

        Returns None for anything else (operators, tokens, functions, unknown names), which
        cqlengine's own filter() then handles, errors included.
        """
        cols = self.model._columns
        for key, val in kwargs.items():
            if val is None or key not in cols or isinstance(val, BaseQueryFunction):
                return None
        d = self.__dict__
        if len(d) == 7 and not (
            d["_where"]
            or d["_defer_fields"]
            or d["_conditional"]
            or d["_order"]
            or d["_only_fields"]
            or d["_deferred_values"]
        ):
            # A fresh ``Model.objects`` queryset (model + empty containers): nothing to copy.
            clone = _new(self.__class__)
            clone.__dict__ = {
                "model": d["model"],
                "_where": (where := []),
                "_conditional": [],
                "_order": [],
                "_only_fields": [],
                "_defer_fields": (defer := set()),
                "_deferred_values": (deferred := {}),
            }
        else:
            clone = self.__deepcopy__({})
            where = clone._where
            defer = clone._defer_fields
            deferred = clone._deferred_values
        for key, val in kwargs.items():
            col = cols[key]
            name = col.db_field_name
            defer.add(name)
            deferred[name] = val
            where.append(_equals_clause(name, col.to_database(val)))
        return clone

    def get(self, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            kwargs = self._translate_pk(kwargs)
            if not args:
                found = self._point_read(kwargs)
                if found is not _MISS:
                    return found
            return self.filter(*args, **kwargs).get()
        found = self._point_read({})
        if found is not _MISS:
            return found
        return super().get()

    def _point_read(self, kwargs: dict[str, Any]) -> Any:
        """Full primary key by equality: one prepared SELECT, no cqlengine statement rendering.

        Returns ``_MISS`` when the query is anything else (cqlengine handles it then).
        """
        if (
            self._batch
            or self._only_fields
            or self._python_order
            or self._consistency
            or self._connection
            or self._if_not_exists
            or self._if_exists
            or self._conditional
            or self._order
            or self._distinct_fields
            or self._fetch_size
            or self._values_list
            or self._timeout is not NOT_SET
        ):
            return _MISS
        model = self.model
        values: dict[str, Any] = {}
        for w in self._where:
            if w.field in values or type(w.operator) is not EqualsOperator:
                return _MISS
            values[w.field] = w.value
        if kwargs:
            cols = model._columns
            for key, value in kwargs.items():
                col = cols.get(key)
                if col is None or key in values or col.db_field_name != key:
                    return _MISS
                values[key] = col.to_database(value)
        keys = model._meta.primary_key_columns
        if len(values) != len(keys):
            return _MISS
        try:
            bound = [values[k] for k in keys]
        except KeyError:
            return _MISS
        if None in bound:
            return _MISS
        # cqlengine defers the columns it filtered by equality; SELECT * covers them anyway.
        if self._defer_fields and not self._defer_fields <= values.keys():
            return _MISS
        wrapper = _connections[model._class_get_connection()]
        cql = model._point_read_cql(model.__keyspace__ or wrapper.settings_dict["NAME"])
        rows = execute_prepared_on(wrapper, cql, bound)
        if not rows:
            raise model.DoesNotExist
        if len(rows) > 1:
            raise model.MultipleObjectsReturned("Multiple objects found")
        return model._construct_instance(rows[0])

    def _translate_pk(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        for key in kwargs:
            if key[:2] == "pk":
                break
        else:
            return kwargs
        meta = self.model._meta
        out: dict[str, Any] = {}
        for key, value in kwargs.items():
            base, _, op = key.partition("__")
            if base != "pk" or op == "token":
                out[key] = value
                continue
            if op == "" and isinstance(value, str) and value.startswith("pk:"):
                out.update(self.model.decode_pk_token(value))
                continue
            out[meta.pk.name + ("__" + op if op else "")] = value
        return out

    def _validate_select_where(self) -> None:
        super()._validate_select_where()
        if self._allow_filtering:
            return
        model = self.model
        meta = model._meta
        partition_eq = {w.field for w in self._where if w.field in meta.partition_key_columns}
        for w in self._where:
            col = model._get_column_by_db_name(w.field) if w.field != "pk__token" else None
            if col is None or col.primary_key:
                continue
            if col.has_index or col.custom_index:
                continue
            raise FilteringRequired(
                f"Filtering {model.__name__} on '{w.field}' needs ALLOW FILTERING: it is not part of the primary key "
                f"({', '.join(meta.primary_key_columns)}) and has no index. Call .allow_filtering() to scan anyway, "
                "or declare the column with index=True and run manage.py sync_cassandra."
            )
        if (
            meta.clustering_columns
            and not partition_eq
            and any(w.field in meta.clustering_columns for w in self._where)
        ):
            raise FilteringRequired(
                f"Filtering {model.__name__} on a clustering column without the partition key "
                f"({', '.join(meta.partition_key_columns)}) needs .allow_filtering()."
            )

    def order_by(self, *colnames: str) -> Any:
        from django.conf import settings

        names = [c for c in colnames if c not in ("pk", "-pk")] + [
            ("-" if c.startswith("-") else "") + self.model._meta.pk.name
            for c in colnames
            if c in ("pk", "-pk")
        ]
        clustering = set(self.model._meta.clustering_columns)
        bad = [c for c in names if c.lstrip("-") not in clustering]
        if not bad:
            clone = super().order_by(*names)
            clone._python_order = None
            return clone
        if not getattr(settings, "CASSANDRA_FALLBACK_ORDER_BY_PYTHON", False):
            raise QueryException(
                f"Can't order {self.model.__name__} on '{bad[0].lstrip('-')}': Cassandra orders only by clustering "
                f"columns ({', '.join(self.model._meta.clustering_columns) or 'none'}). Set "
                "CASSANDRA_FALLBACK_ORDER_BY_PYTHON = True to sort in Python instead."
            )
        for c in bad:
            if c.lstrip("-") not in self.model._columns:
                raise QueryException(f"Can't order on unknown column '{c.lstrip('-')}'")
        warnings.warn(
            "CASSANDRA_FALLBACK_ORDER_BY_PYTHON is set: ordering by a non-clustering column in Python; "
            "every matching row is fetched first, which is slow for large result sets.",
            RuntimeWarning,
            stacklevel=2,
        )
        clone = copy.deepcopy(self)
        clone._order = []
        clone._python_order = tuple(names)
        return clone

    def _execute(self, statement: Any) -> Any:
        if self._batch:
            return self._batch.add_query(statement)
        connection = self._connection or self.model._get_connection()
        result = execute_statement(
            self.model, statement, self._consistency, self._timeout, connection=connection
        )
        if self._if_not_exists or self._if_exists or self._conditional:
            check_applied(result)
        return result

    def _execute_query(self) -> None:
        if not self._python_order or self._result_cache is not None:
            return super()._execute_query()
        limit = self._limit
        self._limit = None
        try:
            rows = list(self._execute(self._select_query()))
        finally:
            self._limit = limit
        for name in reversed(self._python_order):
            col = name.lstrip("-")
            rows.sort(
                key=lambda r, c=col: (r.get(c) is None, r.get(c)), reverse=name.startswith("-")
            )
        if limit:
            rows = rows[:limit]
        self._result_generator = iter(rows)
        self._result_cache = []
        self._construct_result = self._maybe_inject_deferred(self._get_result_constructor())

    def count(self) -> int:
        if self._python_order:
            self._fill_result_cache()
            return len(self._result_cache)
        return super().count()

    def ann(
        self, column: str, vector: list[float], limit: int = 10, *, with_similarity: bool = False
    ) -> list[Any]:
        """Approximate nearest neighbours: ``ORDER BY column ANN OF vector LIMIT limit`` (SAI index needed).

        With ``with_similarity=True`` each instance gets ``.similarity`` (the index's
        similarity function, 0..1, higher is closer).
        """
        from django.db import connections

        model = self.model
        col = model._columns.get(column)
        if not isinstance(col, Vector):
            raise QueryException(f"{model.__name__}.{column} is not a Vector column")
        if not 0 < limit <= 1000:
            raise QueryException("ANN queries need 0 < limit <= 1000 (Astra's cap)")
        vector = col.validate(vector)
        where = []
        params: list[Any] = []
        for w in self._where:
            where.append(f'"{w.field}" {w.operator} %s')
            params.append(w.value)
        select = "*"
        if with_similarity:
            cols = ", ".join(f'"{c.db_field_name}"' for c in model._columns.values())
            select = (
                f'{cols}, similarity_{col.similarity.lower()}("{column}", %s) AS "__similarity"'
            )
            params.insert(0, vector)
        cql = f"SELECT {select} FROM {model.column_family_name()}"
        if where:
            cql += " WHERE " + " AND ".join(where)
        cql += f' ORDER BY "{column}" ANN OF %s LIMIT {int(limit)}'
        params.append(vector)
        alias = model._get_connection()
        wrapper = connections[alias]
        with wrapper.wrap_database_errors:
            wrapper.ensure_connection()
            rows = wrapper.connection.execute(cql, params)
        out = []
        for row in rows:
            sim = row.pop("__similarity", None)
            obj = model._construct_instance(row)
            if with_similarity:
                obj.similarity = sim
            out.append(obj)
        return out


# ------------------------------------------------------------------ model

_IMMUTABLE = frozenset(
    (
        str,
        int,
        float,
        bool,
        bytes,
        uuid.UUID,
        datetime.datetime,
        datetime.date,
        Decimal,
        type(None),
    )
)


class _ValueManager(columns.BaseValueManager):
    """cqlengine's value manager without deepcopy for immutable values (most columns)."""

    def reset_previous_value(self) -> None:
        v = self.value
        self.previous_value = v if type(v) in _IMMUTABLE else copy.deepcopy(v)


class DjangoDMLQuery(DMLQuery):
    """cqlengine's save/update/delete query, executing through :func:`execute_statement`."""

    def _execute(self, statement: Any) -> Any:
        connection = (
            self.instance._get_connection() if self.instance else self.model._get_connection()
        )
        if self._batch:
            return super()._execute(statement)  # cqlengine's batch bookkeeping, unchanged
        results = execute_statement(
            self.model, statement, self._consistency, self._timeout, connection=connection
        )
        if self._if_not_exists or self._if_exists or self._conditional:
            check_applied(results)
        return results


class _QuerySetDescriptor(QuerySetDescriptor):
    """``Model.objects``: a fresh queryset per access, as cqlengine's.

    cqlengine runs the queryset's ``__init__`` (some thirty attribute stores) on every
    ``Model.objects`` access; DjangoCassandraQuerySet keeps those defaults on the class, so a
    fresh queryset needs only its model and empty containers. Querysets with their own
    ``__init__`` and polymorphic models take cqlengine's path.
    """

    def __get__(self, obj: Any, model: Any) -> Any:
        qs_cls = model.__queryset__
        if (
            model.__abstract__
            or model._is_polymorphic
            or not issubclass(qs_cls, DjangoCassandraQuerySet)
            or qs_cls.__init__ is not AbstractQuerySet.__init__
        ):
            return super().__get__(obj, model)
        qs = _new(qs_cls)
        qs.__dict__ = {
            "model": model,
            "_where": [],
            "_conditional": [],
            "_order": [],
            "_only_fields": [],
            "_defer_fields": set(),
            "_deferred_values": {},
        }
        return qs


class DjangoCassandraModelMetaClass(ModelMetaClass):
    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> Any:
        meta = attrs.pop("Meta", None)
        if meta is None:
            # cqlengine clones model classes (ContextQuery, sync_table): keep the parent's Meta.
            meta = next(
                (
                    b._meta.source_meta
                    for b in bases
                    if isinstance(getattr(b, "_meta", None), CassandraOptions)
                ),
                None,
            )
        klass = super().__new__(mcs, name, bases, attrs)
        if attrs.get("__abstract__"):
            return klass
        klass._meta = CassandraOptions(klass, meta)
        for col in klass._columns.values():
            if col.value_manager is columns.BaseValueManager:
                col.value_manager = _ValueManager  # this column object only; cqlengine is untouched
        pk_name = klass._meta.pk.name

        def _get(self: Any) -> Any:
            return getattr(self, pk_name)

        def _set(self: Any, value: Any) -> None:
            setattr(self, pk_name, value)

        klass.pk = property(_get, _set)
        return klass


class DjangoCassandraModel(Model, metaclass=DjangoCassandraModelMetaClass):
    """Base class for Cassandra-backed models; write columns with ``cassandra.cqlengine.columns``."""

    __abstract__ = True
    __queryset__ = DjangoCassandraQuerySet
    __dmlquery__ = DjangoDMLQuery
    objects = _QuerySetDescriptor()
    __database__: str | None = None  # DATABASES alias; default: the first django_astra alias

    @classmethod
    def _class_get_connection(cls) -> str:  # type: ignore[override]
        if cls.__connection__:
            return cls.__connection__
        return cls.__database__ or _default_alias()

    def _inst_get_connection(self) -> str:
        return self._connection or type(self)._class_get_connection()

    from cassandra.cqlengine.models import hybrid_classmethod as _hc

    _get_connection = _hc(_class_get_connection, _inst_get_connection)
    del _hc

    @classmethod
    def _get_keyspace(cls) -> str:
        if cls.__keyspace__:
            return cls.__keyspace__
        from django.db import connections

        return connections[cls._class_get_connection()].settings_dict["NAME"]

    @classmethod
    def _point_read_cql(cls, keyspace: str | None = None) -> str:
        """``SELECT * ... WHERE <every primary-key column> = ? LIMIT 2``, built once per keyspace."""
        ks = keyspace or cls._get_keyspace()
        cache = cls.__dict__.get("_point_read_cache")
        if cache is None:
            cache = {}
            cls._point_read_cache = cache
        cql = cache.get(ks)
        if cql is None:
            where = " AND ".join(f'"{c}" = ?' for c in cls._meta.primary_key_columns)
            table = f"{protect_name(ks)}.{cls.column_family_name(include_keyspace=False)}"
            cql = f"SELECT * FROM {table} WHERE {where} LIMIT 2"
            cache[ks] = cql
        return cql

    @classmethod
    def _construct_instance(cls, values: dict[str, Any]) -> Any:
        """A persisted instance from a result row, as cqlengine builds it, without per-column
        defaults computed only to be overwritten (``uuid4()`` for an ``id`` column...)."""
        plan = cls.__dict__.get("_construct_plan")
        if plan is None:
            plan = cls._make_construct_plan()
        if not plan:
            return super()._construct_instance(values)
        obj = _new(cls)
        d = obj.__dict__
        d.update(_PERSISTED_STATE)
        managers = {}
        for name, column, fast, to_python, container, native in plan:
            if name not in values:
                return super()._construct_instance(values)  # deferred columns: defaults apply
            v = values[name]
            if (v is not None or container) and type(v) is not native:
                v = to_python(v)
            if fast:
                m = _new(_ValueManager)
                m.__dict__ = {
                    "instance": obj,
                    "column": column,
                    "value": v,
                    "previous_value": v if type(v) in _IMMUTABLE else copy.deepcopy(v),
                    "explicit": False,
                }
            else:
                m = column.value_manager(obj, column, v)
                m.reset_previous_value()
            managers[name] = m
        d["_values"] = managers
        return obj

    @classmethod
    def _make_construct_plan(cls) -> list[Any]:
        plan: list[Any] = []
        if not (cls._db_map or cls._is_polymorphic):
            plan = [
                (
                    name,
                    col,
                    col.value_manager is _ValueManager,
                    col.to_python,
                    isinstance(col, columns.BaseContainerColumn),
                    _NATIVE.get(type(col), _NO_TYPE),
                )
                for name, col in cls._columns.items()
            ]
        cls._construct_plan = plan
        return plan

    @property
    def pk_token(self) -> str:
        """Every primary-key value in one string, for URLs (admin change pages, composite keys)."""
        vals = [_jsonable(getattr(self, c)) for c in self._meta.primary_key_columns]
        return "pk:" + json.dumps(vals, separators=(",", ":"))

    @classmethod
    def decode_pk_token(cls, token: str) -> dict[str, Any]:
        vals = json.loads(token[3:])
        names = cls._meta.primary_key_columns
        if not isinstance(vals, list) or len(vals) != len(names):
            raise QueryException(f"Malformed primary key token for {cls.__name__}")
        return {n: _parse(cls._columns[n], v) for n, v in zip(names, vals, strict=True)}

    def validate_constraints(self, exclude: Any = None) -> None:
        """Cassandra enforces no constraints beyond the primary key (upserts); nothing to check."""

    def serializable_value(self, field_name: str) -> Any:
        return getattr(self, field_name)


def _jsonable(v: Any) -> Any:
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    if isinstance(v, (uuid.UUID, Decimal)):
        return str(v)
    return v


def _default_alias() -> str:
    # Django's ConnectionHandler caches the DATABASES dict it was configured from and builds
    # a new one when the setting changes: its identity is a cheap "settings changed" check.
    key = id(_connections.settings)
    if _ALIAS_CACHE and _ALIAS_CACHE[0] == key:
        return _ALIAS_CACHE[1]
    aliases = astra_aliases()
    if not aliases:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("No DATABASES entry uses ENGINE 'django_astra'.")
    _ALIAS_CACHE[:] = [key, aliases[0]]
    return aliases[0]


_ALIAS_CACHE: list[Any] = []

# Columns whose to_python() returns a value of exactly this type unchanged: the driver already
# decoded it, so the call is skipped (exact column classes only; subclasses may differ).
_NATIVE: dict[type, type] = {
    columns.Text: str,
    columns.Ascii: str,
    columns.UUID: uuid.UUID,
    columns.Integer: int,
    columns.BigInt: int,
    columns.SmallInt: int,
    columns.TinyInt: int,
    columns.VarInt: int,
    columns.Float: float,
    columns.Double: float,
    columns.Boolean: bool,
}


class _NoType:
    """Matches no value's type: the column's to_python() always runs."""


_NO_TYPE = _NoType
_new = object.__new__
# What Model.__init__ + _set_persisted(force=True) leave on an instance read from the database.
_PERSISTED_STATE = {
    "_ttl": None,
    "_timestamp": None,
    "_conditional": None,
    "_batch": None,
    "_timeout": NOT_SET,
    "_is_persisted": True,
    "_connection": None,
}


def _copy_clause(clause: Any) -> Any:
    c = _new(type(clause))
    d = c.__dict__ = clause.__dict__.copy()
    qv = d.get("query_value")
    if qv is not None:
        qv2 = _new(type(qv))
        qv2.__dict__ = qv.__dict__.copy()
        d["query_value"] = qv2
        if d.get("value") is qv:
            d["value"] = qv2
    return c


_EQUALS = EqualsOperator()  # operators are stateless; cqlengine compares them by class


def _equals_clause(field: str, value: Any) -> Any:
    """``WhereClause(field, EqualsOperator(), value)`` with the attributes its __init__ sets."""
    qv = _new(QueryValue)
    qv.__dict__ = {"value": value, "context_id": None}
    c = _new(WhereClause)
    c.__dict__ = {
        "field": field,
        "value": value,
        "context_id": None,
        "operator": _EQUALS,
        "query_value": qv,
        "quote_field": True,
    }
    return c
