"""Payment profiles and tip recipients: how a Django user or a recipient id becomes a profile."""

import pytest
from bson import ObjectId
from django.contrib.auth.models import AnonymousUser

from django_skillswap_payments import users
from django_skillswap_payments.documents import PaymentProfile
from django_skillswap_payments.errors import InvalidRecipientId, ProfileNotFound, RecipientNotFound
from tests.support.threads import run_together


class User:
    def __init__(self, pk):
        self.pk = pk
        self.is_authenticated = True


def test_default_profile_resolver_creates_once_even_concurrently():
    race = run_together([lambda: users.get_or_create_profile(User(77))] * 8)
    assert race.errors == []
    assert len({profile.id for profile in race.results}) == 1
    assert PaymentProfile.objects(django_user_id="77").count() == 1


def test_profile_resolution_rules(settings):
    assert users.get_or_create_profile(AnonymousUser()) is None
    assert users.get_or_create_profile(User(5), create=False) is None
    with pytest.raises(ProfileNotFound) as excinfo:
        users.resolve_profile(User(5), create=False)
    assert excinfo.value.as_dict()["message"] == "Please ensure your profile is properly set up"
    profile = users.resolve_profile(User(5))
    assert profile.django_user_id == "5"
    settings.SKILLSWAP_PAYMENTS = {**settings.SKILLSWAP_PAYMENTS, "CREATE_PROFILES": False}
    with pytest.raises(ProfileNotFound):
        users.resolve_profile(User(6))


def test_recipient_resolution():
    alice = PaymentProfile(django_user_id="alice").save()
    assert users.resolve_recipient(str(alice.id)).id == alice.id
    for bad in ("65a1b2c3d4e5f6g7h8i9j0k1", "123", "", 12):
        with pytest.raises(InvalidRecipientId):
            users.resolve_recipient(bad)
    with pytest.raises(RecipientNotFound):
        users.resolve_recipient(str(ObjectId()))


def host_recipient(recipient_id):
    """A site-provided resolver: any valid id resolves to an object with an ``id``."""
    return type("HostUser", (), {"id": ObjectId(recipient_id)})()


def test_custom_recipient_resolver(settings):
    settings.SKILLSWAP_PAYMENTS = {
        **settings.SKILLSWAP_PAYMENTS,
        "RECIPIENT_RESOLVER": "tests.test_users.host_recipient",
    }
    target = ObjectId()
    assert users.resolve_recipient(str(target)).id == target
