"""The party finder's pages: parties of one city (one Cassandra partition) and "count me in".

Every read names the partition (``city``): Cassandra serves those without a table scan. "Count
me in" is the sample's lightweight transaction (``UPDATE ... IF people = <seen>``), so two people
joining at once are both counted and the head count never drops below zero.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from partyfinder.models import Party
from partyfinder.views import count_me_in

CITIES = ("Berlin", "Lisbon", "Nairobi", "Osaka")


def parties_of(city: str) -> list[Party]:
    return sorted(Party.objects(city=city), key=lambda p: p.name)


def index(request: HttpRequest) -> HttpResponse:
    city = request.GET.get("city") or CITIES[0]
    token = get_token(request)
    rows = format_html_join(
        "",
        '<li>{} ({} going) <form method="post" action="/parties/{}/{}/count-me-in/" '
        'style="display:inline"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="next" value="/?city={}">'
        '<button name="delta" value="1">count me in</button>'
        '<button name="delta" value="-1">count me out</button></form></li>',
        ((p.name, p.people, p.city, p.id, token, p.city) for p in parties_of(city)),
    )
    links = format_html_join(" | ", '<a href="/?city={}">{}</a>', ((c, c) for c in CITIES))
    notes = format_html_join(
        "", "<p><em>{}</em></p>", ((m,) for m in messages.get_messages(request))
    )
    return HttpResponse(
        format_html(
            "<!doctype html><title>Party finder</title><h1>Parties in {}</h1><p>{}</p>{}"
            '<ul>{}</ul><p><a href="/admin/">admin</a></p>',
            city,
            links,
            notes,
            rows or format_html("<li>none yet</li>"),
        )
    )


def city_json(request: HttpRequest, city: str) -> JsonResponse:
    parties = [
        {"id": str(p.id), "name": p.name, "people": p.people, "date": p.date.isoformat()}
        for p in parties_of(city)
    ]
    return JsonResponse({"city": city, "parties": parties})


@require_POST
def join(request: HttpRequest, city: str, party_id) -> HttpResponse:
    try:
        delta = int(request.POST.get("delta", "1"))
    except ValueError:
        return JsonResponse({"error": "delta must be an integer"}, status=400)
    applied, people = count_me_in(city, party_id, delta)
    if not applied and people is None and not Party.objects(city=city, id=party_id).count():
        raise Http404("no such party")
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        if not applied:  # the page's buttons: say why nothing changed
            messages.warning(request, f"Not counted: {people} going, and never below zero.")
        return HttpResponseRedirect(nxt)
    # 409: the change would take the head count below zero (or kept losing the race).
    return JsonResponse({"applied": applied, "people": people}, status=200 if applied else 409)
