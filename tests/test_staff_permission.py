"""STAFF_PERMISSION: who may use the operator's endpoints."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core import checks as django_checks
from django.test import override_settings
from rest_framework.permissions import BasePermission

from django_skillswap_payments.api.permissions import IsPaymentsStaff
from django_skillswap_payments.checks import check_settings
from tests.support.config import payments_config


class OnlyCarol(BasePermission):
    message = "Only Carol runs this platform."

    def has_permission(self, request, view) -> bool:
        return request.user.username == "carol"


def _request(username: str, *, is_staff: bool) -> SimpleNamespace:
    user = SimpleNamespace(username=username, is_staff=is_staff, is_authenticated=True, is_active=True)
    return SimpleNamespace(user=user)


@pytest.mark.parametrize(("is_staff", "allowed"), [(True, True), (False, False)])
def test_by_default_staff_users_are_admitted(is_staff, allowed):
    assert IsPaymentsStaff().has_permission(_request("dora", is_staff=is_staff), None) is allowed


def test_a_site_chooses_its_own_permission_class():
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(STAFF_PERMISSION=f"{__name__}.OnlyCarol")):
        permission = IsPaymentsStaff()
        assert permission.has_permission(_request("carol", is_staff=False), None)
        assert not permission.has_permission(_request("dora", is_staff=True), None)
        assert permission.message == "Only Carol runs this platform."


@pytest.mark.parametrize("path", ["no.such.Permission", "rest_framework.permissions.Nope", "not a path"])
def test_an_unimportable_staff_permission_is_a_configuration_error(path):
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(STAFF_PERMISSION=path)):
        errors = [m for m in check_settings() if m.level >= django_checks.ERROR]
    assert any(m.id == "skillswap_payments.E006" and "STAFF_PERMISSION" in m.msg for m in errors)
