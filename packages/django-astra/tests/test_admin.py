"""Party finder admin: list (paged), add, change, delete; composite keys addressed by pk_token."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(scope="module")
def admin_client(django_env):
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", database="default", verbosity=0)
    if not User.objects.filter(username="root").exists():
        User.objects.create_superuser("root", "root@example.com", "pw")
    c = Client()
    assert c.login(username="root", password="pw")  # the session lives in Cassandra
    return c


def test_index_lists_cassandra_models(admin_client):
    r = admin_client.get("/admin/")
    assert r.status_code == 200
    assert b"/admin/partyfinder/party/" in r.content and b"/admin/partyfinder/guest/" in r.content


def test_party_crud(admin_client):
    from partyfinder.models import Party

    city = "adm" + uuid.uuid4().hex[:6]
    r = admin_client.post(
        "/admin/partyfinder/party/add/", {"city": city, "name": "Admin party", "people": "5"}
    )
    assert r.status_code == 302, r.content
    party = Party.objects(city=city).get()
    assert (party.name, party.people) == ("Admin party", 5)
    change = f"/admin/partyfinder/party/{party.pk_token}/change/"
    r = admin_client.get(change)
    assert r.status_code == 200 and b"Admin party" in r.content
    r = admin_client.post(
        change, {"name": "Renamed", "people": "6", "date": party.date.strftime("%Y-%m-%d %H:%M:%S")}
    )
    assert r.status_code == 302
    again = Party.objects(city=city).get(pk=party.id)
    assert (again.name, again.people, again.city) == ("Renamed", 6, city)
    # the list shows it, filtered to the partition
    r = admin_client.get(f"/admin/partyfinder/party/?city={city}")
    assert b"Renamed" in r.content
    r = admin_client.post(f"/admin/partyfinder/party/{party.pk_token}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert Party.objects(city=city).count() == 0


def test_changelist_pages_with_paging_state(admin_client):
    from partyfinder.models import Party

    city = "pg" + uuid.uuid4().hex[:6]
    for i in range(3):
        Party.create(city=city, name=f"p{i}")
    r = admin_client.get(f"/admin/partyfinder/party/?city={city}")
    assert r.status_code == 200 and r.content.count(b"/change/") == 2  # list_per_page = 2
    import html
    import re

    m = re.search(rb'href="(\?[^"]*page=[0-9a-f]+)" class="next-page"', r.content)
    assert m, "no next-page link"
    r2 = admin_client.get("/admin/partyfinder/party/" + html.unescape(m.group(1).decode()))
    assert r2.content.count(b"/change/") == 1


def test_composite_key_change_and_duplicate_add(admin_client):
    from partyfinder.models import Guest

    city, pid = "cmp" + uuid.uuid4().hex[:6], uuid.uuid4()
    g = Guest.create(city=city, party_id=pid, name="zed", email="z@x", note="hi")
    Guest.create(city=city, party_id=pid, name="amy", email="a@x", note="other")
    url = f"/admin/partyfinder/guest/{g.pk_token}/change/"
    r = admin_client.post(url, {"email": "z@y", "note": "changed"})
    assert r.status_code == 302
    assert Guest.objects.get(pk=g.pk_token).note == "changed"
    # the other row of the same partition is untouched
    other = Guest.objects(city=city, party_id=pid, name="amy").get()
    assert other.note == "other"
    r = admin_client.post(
        "/admin/partyfinder/guest/add/",
        {"city": city, "party_id": str(pid), "name": "amy", "note": "dup"},
    )
    assert r.status_code == 200 and b"already exists" in r.content
    assert Guest.objects(city=city, party_id=pid, name="amy").get().note == "other"
