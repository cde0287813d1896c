"""Connect accounts: Express accounts, Account Links and the hosted onboarding page.

``POST /v1/accounts`` creates an Express account that can neither charge nor
receive payouts until it is onboarded. ``POST /v1/account_links`` returns a
single-use URL of the hosted onboarding page (:mod:`.connect_pages`), where
the user either submits their details (the account becomes fully enabled)
or leaves with them incomplete; either way the page sends the browser to
the link's ``return_url``, and an expired or used link to its ``refresh_url``,
as Stripe does. Every change of an account emits ``account.updated``; a test
can drive the same steps with :meth:`ConnectAccounts.complete_onboarding` and
:meth:`ConnectAccounts.deauthorize_account`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import objects
from .errors import invalid_request
from .params import check_metadata
from .store import EmulatorStore

#: How long an Account Link can be used, as on Stripe.
ACCOUNT_LINK_LIFETIME = 300
#: What a new Express account must still provide.
INITIAL_REQUIREMENTS = (
    "business_type",
    "external_account",
    "individual.dob.day",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
)
#: The platform's application, as ``account.application.deauthorized`` names it.
PLATFORM_APPLICATION = "ca_emulator_platform"


@dataclass
class AccountLinkExtras:
    """An Account Link's targets and whether it was used (the link object itself is not stored)."""

    account: str
    refresh_url: str
    return_url: str
    expires_at: int
    used: bool = False


def _requirements(due: list[str]) -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": "requirements.past_due" if due else None,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


class ConnectAccounts(EmulatorStore):
    """``/v1/accounts``, ``/v1/account_links`` and the onboarding the hosted page performs."""

    def create_account(self, params: Mapping[str, Any]) -> dict[str, Any]:
        with self._operation():
            kind = params.get("type")
            controller = params.get("controller") or {}
            if kind is None and controller:
                kind = "express" if (controller.get("stripe_dashboard") or {}).get("type") == "express" else None
            if kind != "express":
                raise invalid_request(
                    "The Stripe emulator only simulates Express accounts (type=express).",
                    param="type",
                    code="emulator_unsupported",
                )
            check_metadata(params.get("metadata"), "metadata")
            country = (params.get("country") or "US").upper()
            account = objects.complete({
                "id": self.new_id("acct_", 16),
                "object": "account",
                "business_profile": dict(params.get("business_profile") or {}),
                "business_type": params.get("business_type"),
                "capabilities": {"card_payments": "inactive", "transfers": "inactive"},
                "charges_enabled": False,
                "controller": {"type": "application", "is_controller": True},
                "country": country,
                "created": self.now(),
                "default_currency": params.get("default_currency") or ("usd" if country == "US" else "eur"),
                "details_submitted": False,
                "email": params.get("email"),
                "future_requirements": _requirements([]),
                "metadata": dict(params.get("metadata") or {}),
                "payouts_enabled": False,
                "requirements": _requirements(list(INITIAL_REQUIREMENTS)),
                "settings": {},
                "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
                "type": "express",
            })
            return self._store(account)

    def create_account_link(self, params: Mapping[str, Any], *, base_url: str) -> dict[str, Any]:
        with self._operation():
            self._find("account", params["account"], param="account", status=400)
            if params.get("type") != "account_onboarding":
                raise invalid_request(
                    "The Stripe emulator only simulates account links of type account_onboarding.",
                    param="type",
                    code="emulator_unsupported",
                )
            for name in ("refresh_url", "return_url"):
                if not str(params.get(name) or "").startswith(("http://", "https://")):
                    raise invalid_request("Not a valid URL", param=name, code="url_invalid")
            token = self.new_id("", 32)
            now = self.now()
            self._extras[f"acctlink_{token}"] = AccountLinkExtras(
                account=params["account"],
                refresh_url=params["refresh_url"],
                return_url=params["return_url"],
                expires_at=now + ACCOUNT_LINK_LIFETIME,
            )
            base = (self.public_url or base_url).rstrip("/")
            # Not stored: Stripe has no endpoint to read an Account Link back.
            return {
                "object": "account_link",
                "created": now,
                "expires_at": now + ACCOUNT_LINK_LIFETIME,
                "url": f"{base}/connect/onboard/{token}",
            }

    def account_link(self, token: str) -> tuple[AccountLinkExtras | None, bool]:
        """The link behind an onboarding URL token and whether it can still be used."""
        with self._operation():
            extras = self._extras.get(f"acctlink_{token}")
            if not isinstance(extras, AccountLinkExtras):
                return None, False
            return extras, not extras.used and self.now() < extras.expires_at

    def use_account_link(self, token: str, *, submit: bool) -> str | None:
        """What the onboarding page's buttons do; returns where the browser goes next."""
        with self._operation():
            extras, usable = self.account_link(token)
            if extras is None:
                return None
            if not usable:
                return extras.refresh_url
            extras.used = True
            if submit:
                self.complete_onboarding(extras.account)
            return extras.return_url

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """Submit the account's details: charges, transfers and payouts become enabled."""
        with self._operation():
            account = self._find("account", account_id, param="account")
            previous = {
                key: objects.snapshot(account)[key]
                for key in ("capabilities", "charges_enabled", "details_submitted", "payouts_enabled", "requirements")
            }
            account.update(
                capabilities={"card_payments": "active", "transfers": "active"},
                charges_enabled=True,
                details_submitted=True,
                payouts_enabled=True,
                requirements=_requirements([]),
                business_type=account["business_type"] or "individual",
                tos_acceptance={"date": self.now(), "ip": "127.0.0.1", "user_agent": "emulator"},
            )
            self._emit("account.updated", account, previous_attributes=previous, account=account_id)
            return account

    def deauthorize_account(self, account_id: str) -> None:
        """The account holder disconnects from the platform (``account.application.deauthorized``)."""
        with self._operation():
            self._find("account", account_id, param="account")
            application = {"id": PLATFORM_APPLICATION, "object": "application", "name": "SkillSwap"}
            self._emit("account.application.deauthorized", application, account=account_id)

    def can_receive_transfers(self, account_id: str) -> bool:
        account = self._objects.get(account_id)
        return bool(account) and account["object"] == "account" and account["capabilities"]["transfers"] == "active"
