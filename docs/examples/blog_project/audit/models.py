from django.db import models


class AuditEntry(models.Model):
    CREATED, UPDATED, DELETED = "created", "updated", "deleted"
    ACTIONS = [(CREATED, "created"), (UPDATED, "updated"), (DELETED, "deleted")]

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=10, choices=ACTIONS)
    model = models.CharField(max_length=100)  # app_label.ModelName
    object_pk = models.CharField(max_length=64)
    summary = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.model} {self.object_pk} {self.action}"
