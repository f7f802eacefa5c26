from django_astra.admin import CassandraModelAdmin, register

from .models import Guest, Party


class PartyAdmin(CassandraModelAdmin):
    list_display = ("name", "city", "people", "date")
    list_per_page = 2


register(Party, PartyAdmin)
register(Guest)
