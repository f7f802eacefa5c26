"""Session table: one row per session key, written with a TTL equal to the session's expiry."""

from cassandra.cqlengine import columns

from ..models import DjangoCassandraModel


class AstraSession(DjangoCassandraModel):
    __table_name__ = "django_session"

    session_key = columns.Text(primary_key=True, max_length=40)
    session_data = columns.Text()
    expire_date = columns.DateTime()

    class Meta:
        app_label = "astra_sessions"
