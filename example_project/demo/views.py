"""The few endpoints a host site adds around the payments app for its own UI."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpResponseNotFound, JsonResponse
from rest_framework.response import Response
from rest_framework.views import APIView

from django_skillswap_payments import services
from django_skillswap_payments.users import get_or_create_profile

from .models import Notification


class MeView(APIView):
    """The logged-in user, with the payments profile id other users tip."""

    def get(self, request):
        profile = get_or_create_profile(request.user)
        return Response(
            {
                "id": request.user.pk,
                "username": request.user.get_username(),
                "profile_id": str(profile.id),
                "is_premium": services.get_premium_status(profile)["is_premium"],
                "is_staff": request.user.is_staff,
            }
        )


class RecipientsView(APIView):
    """Everyone the current user can tip (everyone but themselves)."""

    def get(self, request):
        users = get_user_model().objects.filter(is_active=True, is_staff=False).exclude(pk=request.user.pk).order_by("username")
        return Response(
            [
                {
                    "profile_id": str(get_or_create_profile(user).id),
                    "username": user.get_username(),
                    "display_name": user.get_full_name() or user.get_username(),
                }
                for user in users[:50]
            ]
        )


class NotificationsView(APIView):
    """What the site's payment signal receivers recorded for this user."""

    def get(self, request):
        notifications = Notification.objects.filter(user=request.user)[:20]
        return Response(
            [
                {"id": n.pk, "kind": n.kind, "text": n.text, "created_at": n.created_at.isoformat()}
                for n in notifications
            ]
        )


class ReceiptsView(APIView):
    """The last receipt emails sent to the current user, read back from the demo's mail files."""

    def get(self, request):
        address = (request.user.email or "").lower()
        found = [receipt for receipt in read_mail_files(settings.EMAIL_DIR) if address in receipt["to"]]
        return Response(found[:20])


MAIL_FILE_SEPARATOR = "-" * 79


def read_mail_files(directory) -> list[dict]:
    """Every message Django's file-based mail backend wrote to ``directory``, newest first."""
    from email import message_from_string, policy
    from email.utils import getaddresses, parsedate_to_datetime
    from pathlib import Path

    messages = []
    for path in sorted(Path(directory).glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True):
        for chunk in path.read_text(encoding="utf-8", errors="replace").split(MAIL_FILE_SEPARATOR):
            if not chunk.strip():
                continue
            message = message_from_string(chunk.strip() + "\n", policy=policy.default)
            text = message.get_body(preferencelist=("plain",))
            messages.append(
                {
                    "subject": str(message["Subject"] or ""),
                    "to": [addr.lower() for _, addr in getaddresses([str(message["To"] or "")])],
                    "date": parsedate_to_datetime(message["Date"]).isoformat() if message["Date"] else None,
                    "text": text.get_content() if text is not None else "",
                }
            )
    messages.sort(key=lambda m: m["date"] or "", reverse=True)
    return messages


# Shown only when the front end has not been built (its export has the real page).
_PLAIN_NOT_FOUND = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Page not found</title></head>
<body><h1>Page not found</h1><p><a href="/dashboard/">Back to dashboard</a></p></body></html>
"""


def not_found(request, exception=None):
    """Any unknown address: JSON under ``/api/``, otherwise the front end's own 404 page.

    Routed as the last URL pattern as well as ``handler404``, so even with
    ``DJANGO_DEBUG=1`` nobody is shown Django's debug page listing every URL.
    """
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": "Not found", "message": "There is no API endpoint at this address."},
            status=404,
        )
    try:
        page = (settings.FRONTEND_EXPORT_DIR / "404.html").read_bytes()
    except OSError:
        page = _PLAIN_NOT_FOUND
    return HttpResponseNotFound(page, content_type="text/html; charset=utf-8")
