"""Prisma Accelerate / Prisma Postgres over the Accelerate HTTP protocol (ENGINE ``django_prisma``)."""

__version__ = "0.1.0"
