"""Local workers-dbms server: ``python -m django_dbms.server --port 8788 --data ./dbms-data``."""
