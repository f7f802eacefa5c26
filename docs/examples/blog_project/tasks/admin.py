from django.contrib import admin

from .models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "attempts", "claimed_by", "run_after"]
    list_filter = ["status", "kind"]
