"""Durable Object SQLite (workers-dbms) over websocket (ENGINE ``django_dbms``)."""

__version__ = "0.1.0"
