"""pytest plugin for django-prisma (fixtures that start the local server)."""
