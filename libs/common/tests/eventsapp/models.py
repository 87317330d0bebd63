"""A model for the events tests' handlers to write: one receipt per effect."""

from django.db import models


class Receipt(models.Model):
    event_id = models.UUIDField()
    note = models.CharField(max_length=100, blank=True)

    class Meta:
        app_label = "eventsapp"

    def __str__(self) -> str:
        return self.note
