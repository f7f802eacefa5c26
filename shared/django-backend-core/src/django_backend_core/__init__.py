"""Shared pieces of the django-backends family: DB-API surface, cursor, params, errors."""

__version__ = "0.1.0"
