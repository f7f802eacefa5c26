"""pytest plugin for django-astra (fixtures that start the local server)."""
