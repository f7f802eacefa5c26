"""pytest plugin for django-d1 (fixtures that start the local server)."""
