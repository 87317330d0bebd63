"""Data of the notifications app: the e-mail each event gave, or why it gave none."""

from django.db import models


class SentEmail(models.Model):
    """The e-mail one event gave the customer, recorded in the transaction that sends it.

    ``event_id`` is unique: an event mails once, however often it is delivered. An event
    whose account has no e-mail address (or no longer exists) sends nothing, and its row
    says it was skipped and why. A mail with a link that carries a secret (a password
    reset's) is recorded with the link redacted.
    """

    class Kind(models.TextChoices):
        WELCOME = "welcome", "welcome (user.registered)"
        ORDER_CONFIRMED = "order_confirmed", "order confirmed (order.confirmed)"
        ORDER_PAID = "order_paid", "order paid (order.paid)"
        ORDER_PAYMENT_FAILED = "order_payment_failed", "payment failed (order.payment_failed)"
        ORDER_SHIPPED = "order_shipped", "order shipped (order.shipped)"
        ORDER_CANCELLED = "order_cancelled", "order cancelled (order.cancelled)"
        PASSWORD_RESET = "password_reset", "password reset (user.password_reset_requested)"
        EMAIL_VERIFICATION = "email_verification", "e-mail verification (user.email_changed)"

    class Status(models.TextChoices):
        SENT = "sent", "sent"
        NO_ADDRESS = "no_address", "skipped: the account has no e-mail address"
        NO_ACCOUNT = "no_account", "skipped: the account no longer exists"

    event_id = models.UUIDField(unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    user_id = models.BigIntegerField()
    order_id = models.UUIDField(null=True, blank=True, db_index=True)
    recipient = models.EmailField(blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    # When it was handed to the mail server; None for a skipped event.
    sent_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "e-mail"
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient or '(nobody)'}"
