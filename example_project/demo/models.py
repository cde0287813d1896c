from django.conf import settings
from django.db import models


class Notification(models.Model):
    """What the host site tells a user after a payment signal (shown in the UI)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    text = models.CharField(max_length=400)
    payment_id = models.CharField(max_length=24)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A re-dispatched signal must not notify twice.
            models.UniqueConstraint(fields=["user", "kind", "payment_id"], name="one_notification_per_payment_event"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.text}"
