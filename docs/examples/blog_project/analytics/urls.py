from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [path("last-30-days.json", views.last_30_days, name="last_30_days")]
