"""The awesome-astra "party finder" sample, ported: parties per city, count-me-in with an LWT."""

import uuid

from cassandra.cqlengine import columns
from django.utils import timezone
from django_astra.models import DjangoCassandraModel, Vector


class Party(DjangoCassandraModel):
    city = columns.Text(primary_key=True)
    id = columns.UUID(primary_key=True, clustering_order="asc", default=uuid.uuid4)
    name = columns.Text()
    people = columns.Integer(default=0)
    date = columns.DateTime(default=timezone.now)

    class Meta:
        get_pk_field = "id"


class Guest(DjangoCassandraModel):
    """Composite partition key + clustering column, to exercise pk handling."""

    city = columns.Text(partition_key=True)
    party_id = columns.UUID(partition_key=True)
    name = columns.Text(primary_key=True)
    email = columns.Text(index=True)
    note = columns.Text()

    class Meta:
        get_pk_field = "name"


class Song(DjangoCassandraModel):
    id = columns.Integer(primary_key=True)
    title = columns.Text()
    embedding = Vector(dimension=3, similarity="cosine")


class AstraNote(DjangoCassandraModel):
    """Lives on the Astra-mode alias: sync creates SAI (not legacy 2i) for index=True."""

    __database__ = "astra"
    id = columns.Text(primary_key=True)
    body = columns.Text(index=True)
