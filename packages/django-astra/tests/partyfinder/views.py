"""The sample's LWT: join a party only if the head count has not changed meanwhile."""

from django.db import connections


def count_me_in(city, party_id, delta, alias="cassandra"):
    """Add ``delta`` people (may be negative); never below zero. Returns (applied, people)."""
    cursor = connections[alias].cursor()
    for _ in range(10):
        row = cursor.execute(
            "SELECT people FROM party WHERE city=%s AND id=%s", (city, party_id)
        ).one()
        if row is None:
            return False, None
        current = row["people"] or 0
        new = current + delta
        if new < 0:
            return False, current
        result = cursor.execute(
            "UPDATE party SET people=%s WHERE city=%s AND id=%s IF people=%s",
            (new, city, party_id, current),
        ).one()
        if result["[applied]"]:
            return True, new
    return False, None
