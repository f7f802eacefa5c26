"""Shared pieces of the django-backends family, so each backend only writes its wire protocol.

Modules: ``dbapi`` (PEP 249 names, exceptions, ``Connection``), ``transport`` (the interface a
backend implements), ``cursor`` (one PEP 249 cursor over it), ``params`` (``%s`` to the store's
placeholders, literal-aware), ``errors`` (declarative error mapping), ``secrets`` (redaction),
``settings`` (validation), ``metrics`` (round-trip counters), ``servers`` (local server
harness), ``testing`` (pytest helpers), ``remote_sqlite`` (SQLite dialect without Python UDFs).
Importing this package imports none of them, and none imports a store library.
"""

__version__ = "0.1.0"
