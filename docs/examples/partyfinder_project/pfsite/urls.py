from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("", views.index),
    path("parties/<str:city>.json", views.city_json),
    path("parties/<str:city>/<uuid:party_id>/count-me-in/", views.join),
    path("admin/", admin.site.urls),
]
