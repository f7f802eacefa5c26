"""Django sessions in Cassandra with native TTL (add ``django_astra.sessions`` to INSTALLED_APPS).

``SESSION_ENGINE = "django_astra.sessions.backends.db"``; expired sessions vanish through
Cassandra's TTL, so ``clearsessions`` has nothing to do.
"""
