"""Astra DB / Apache Cassandra via cassandra-driver (ENGINE ``django_astra``)."""

__version__ = "0.1.0"
