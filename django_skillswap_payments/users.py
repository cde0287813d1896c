"""How Django users map onto payment identities.

The defaults keep one :class:`~django_skillswap_payments.documents.PaymentProfile`
per Django user. A site that already stores its users in MongoDB points the
``PROFILE_RESOLVER`` and ``RECIPIENT_RESOLVER`` settings at its own
functions with the same signatures; whatever they return must have an
``id`` (``ObjectId``) and may have a ``stripe_customer_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.module_loading import import_string

from .conf import payments_settings
from .documents import PaymentProfile
from .errors import InvalidRecipientId, ProfileNotFound, RecipientNotFound
from .ids import is_object_id
from .repository import profiles


def get_or_create_profile(user: Any, create: bool = True) -> PaymentProfile | None:
    """Return the payment profile of a Django user, creating it atomically if asked.

    Anonymous users get ``None``. Creation is a single upsert keyed on the
    unique ``django_user_id`` (``str(user.pk)``), so concurrent first requests
    end up with the same profile.
    """
    if user is None or not getattr(user, "is_authenticated", False) or user.pk is None:
        return None
    return profiles.profile_for_django_user(str(user.pk), create=create)


def find_recipient(recipient_id: str) -> PaymentProfile | None:
    """Look up a tip recipient by the hex ObjectId of their payment profile.

    Raises :class:`~django_skillswap_payments.errors.InvalidRecipientId` if
    ``recipient_id`` is not a 24-character hex string; returns ``None`` when
    no such profile exists.
    """
    if not is_object_id(recipient_id):
        raise InvalidRecipientId()
    return profiles.get_profile(recipient_id)


def _hook(name: str) -> Callable[..., Any]:
    return import_string(getattr(payments_settings, name))


def resolve_profile(user: Any, *, create: bool | None = None) -> Any:
    """Profile of ``user`` via the configured ``PROFILE_RESOLVER``.

    ``create`` defaults to the ``CREATE_PROFILES`` setting. Raises
    :class:`~django_skillswap_payments.errors.ProfileNotFound` when the
    resolver finds none.
    """
    if create is None:
        create = bool(payments_settings.CREATE_PROFILES)
    profile = _hook("PROFILE_RESOLVER")(user, create=create)
    if profile is None:
        raise ProfileNotFound()
    return profile


def existing_profile(user: Any) -> Any | None:
    """The profile of ``user`` without creating one; ``None`` means "no payments yet".

    A site that turned ``CREATE_PROFILES`` off keeps its own profiles, so a
    user without one there is an error (``ProfileNotFound``), as in the
    legacy gateway.
    """
    try:
        return resolve_profile(user, create=False)
    except ProfileNotFound:
        missing_profile()
        return None


def missing_profile() -> None:
    """Check that a read may treat a user with no profile as "no payments yet".

    Raises ``ProfileNotFound`` where ``CREATE_PROFILES`` is off: such a site
    keeps its own profiles (see :func:`existing_profile`).
    """
    if not payments_settings.CREATE_PROFILES:
        raise ProfileNotFound()


def resolve_recipient(recipient_id: Any) -> Any:
    """Recipient for ``recipient_id`` via the configured ``RECIPIENT_RESOLVER``.

    Raises ``InvalidRecipientId`` for a malformed id and ``RecipientNotFound``
    when nobody has that id.
    """
    if not isinstance(recipient_id, str):
        raise InvalidRecipientId()
    recipient = _hook("RECIPIENT_RESOLVER")(recipient_id.strip())
    if recipient is None:
        raise RecipientNotFound()
    return recipient


def email_for_profile(profile_id: Any) -> str | None:
    """The address receipts for a payment profile go to: its Django user's ``email``.

    The default ``EMAIL_RESOLVER``. ``None`` (no receipt) when the profile,
    the user or the address is missing. Sites whose people live elsewhere
    point ``EMAIL_RESOLVER`` at their own function of the same signature.
    """
    from django.contrib.auth import get_user_model

    profile = profiles.get_profile(profile_id)
    django_user_id = getattr(profile, "django_user_id", None)
    if not django_user_id:
        return None
    user_model = get_user_model()
    try:
        pk = user_model._meta.pk.to_python(django_user_id)
    except Exception:  # a profile made for a user of another kind of key
        return None
    email = user_model._default_manager.filter(pk=pk).values_list(
        user_model.get_email_field_name(), flat=True
    ).first()
    return email or None


def resolve_email(profile_id: Any) -> str | None:
    """The receipt address of a payment profile, through the configured ``EMAIL_RESOLVER``."""
    return _hook("EMAIL_RESOLVER")(profile_id)
