"""pytest plugin for django-jsonlines-git (fixtures that start the local server)."""
