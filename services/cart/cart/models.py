"""Data of the cart app. ``Example`` shows the shape of a model here: replace it with
the service's own, then make their migration again (``python manage.py makemigrations``)."""

from django.db import models


class Example(models.Model):
    """Something a user made, named once among theirs."""

    user_id = models.BigIntegerField()
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "name"], name="example_name_per_user")
        ]

    def __str__(self) -> str:
        return self.name
