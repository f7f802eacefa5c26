"""Cloudflare D1 over the D1 REST API (ENGINE ``django_d1``)."""

__version__ = "0.1.0"
