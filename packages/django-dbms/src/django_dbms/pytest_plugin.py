"""pytest plugin for django-dbms (fixtures that start the local server)."""
