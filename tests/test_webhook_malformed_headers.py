"""Malformed ``Stripe-Signature`` headers are refused with 400 JSON, and secrets stay out of error reports.

Headers reach the view as Django gives them: WSGI decodes header bytes as
latin-1, so any byte 0x80-0xff arrives as one character in that range.
"""

from __future__ import annotations

import random
import sys
import time

import pytest
from django.test import override_settings
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter
from rest_framework.test import APIClient

from django_skillswap_payments import gateway, webhooks
from django_skillswap_payments.errors import GatewayError, WebhookVerificationError
from django_skillswap_payments.testing.webhooks import build_event, encode_event, sign_payload
from tests.support.config import payments_config
from tests.support.database import assert_nothing_written
from tests.support.webhooks import configured_secret, post_webhook

pytestmark = pytest.mark.django_db

SECRET = "whsec_test_suite"
CLEANSED = SafeExceptionReporterFilter.cleansed_substitute


def _payload(event_id="evt_hdr", event_type="checkout.session.completed"):
    obj = {"id": "cs_forged", "object": "checkout.session", "mode": "payment", "payment_status": "paid"}
    return encode_event(build_event(event_type, obj, event_id=event_id))


def _latin1(text: str) -> str:
    """``text`` as Django hands it over when a client sends its UTF-8 bytes."""
    return text.encode("utf-8").decode("latin-1")


def _malformed_headers(payload: bytes) -> dict[str, str]:
    now = int(time.time())
    valid = sign_payload(payload, SECRET, timestamp=now)
    digest = valid.split("v1=", 1)[1]
    return {
        "reported": "t=1,v1=\xe9",
        "non-ascii-digest": f"t={now},v1=" + "\xe9" * 64,
        "valid-digest-one-byte-off": f"t={now},v1={digest[:-1]}\xe9",
        "valid-then-non-ascii-entry": f"{valid},v1=\xe9",
        "non-ascii-then-valid": f"t={now},v1=\xff,v1={digest}",
        "latin1-in-timestamp": f"t={now}\xb2,v1={digest}",
        "utf8-mojibake-digest": f"t={now},v1=" + _latin1("é") * 32,
        "arabic-indic-digits": f"t={_latin1('١٢٣٤٥٦٧٨٩٠')},v1={digest}",
        "nul": "\x00",
        "nul-in-digest": f"t={now},v1={digest}\x00",
        "nul-in-timestamp": f"t={now}\x00,v1={digest}",
        "control-chars": f"t={now},\x01v1={digest}",
        "del-char": f"t={now},v1={digest}\x7f",
        "newline": f"t={now},\nv1={digest}",
        "tab": f"t={now},\tv1={digest}",
        "huge-header": f"t={now},v1=" + "a" * 100_000,
        "many-v1-entries": ",".join(["v1=00"] * 20_000) + f",t={now}",
        "many-timestamps": ",".join([f"t={now}"] * 20_000) + ",v1=00",
        "timestamp-too-many-digits": "t=" + "9" * 5000 + ",v1=00",
        "timestamp-huge": "t=" + "9" * 40 + ",v1=" + "0" * 64,
        "timestamp-negative": "t=-1,v1=" + "0" * 64,
        "timestamp-not-a-number": "t=abc,v1=" + "0" * 64,
        "timestamp-float": f"t={now}.5,v1={digest}",
        "timestamp-empty": "t=,v1=",
        "only-commas": ",,,,,,",
        "one-comma": ",",
        "only-equals": "=",
        "only-t": "t",
        "only-v1": "v1",
        "double-equals": "t==1,v1==00",
        "equals-inside-values": "t=1=2,v1=3=4",
        "no-v1": f"t={now}",
        "v0-only": f"t={now},v0={digest}",
        "spaces": f" t={now} , v1={digest} ",
        "only-spaces": "   ",
        "empty-digest": f"t={now},v1=",
    }


PAYLOAD = _payload()
MALFORMED = _malformed_headers(PAYLOAD)


def _assert_refused(response) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) <= {"error", "message"}
    assert body["error"] in {"Invalid webhook signature", "Missing Stripe-Signature header"}
    assert SECRET.encode() not in response.content


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_signature_header_is_a_400_and_writes_nothing(mongo_database, name, debug):
    # raise_request_exception=False: a crash is rendered the way a server would (HTML 500,
    # with DEBUG on Django's debug page), instead of being re-raised into the test.
    client = APIClient(raise_request_exception=False)
    with override_settings(DEBUG=debug):
        response = post_webhook(client, PAYLOAD, MALFORMED[name])

    _assert_refused(response)
    assert_nothing_written(mongo_database)


def _random_header(rng: random.Random, valid: str) -> str:
    pieces = ["t=", "v1=", "v0=", ",", "=", valid, valid.split("v1=")[1], str(int(time.time()))]
    out = []
    for _ in range(rng.randint(0, 12)):
        roll = rng.random()
        if roll < 0.4:
            out.append(rng.choice(pieces))
        elif roll < 0.7:
            out.append(chr(rng.randint(0, 255)))  # any byte, decoded as latin-1
        else:
            out.append("".join(rng.choice("0123456789abcdef") for _ in range(rng.randint(1, 70))))
    return "".join(out)


def test_randomly_mangled_headers_are_all_refused(mongo_database):
    rng = random.Random(20240611)
    client = APIClient(raise_request_exception=False)
    # Pieces of a genuine header for another secret: nothing built from them can verify.
    valid = sign_payload(PAYLOAD, "whsec_someone_else")
    for _ in range(400):
        header = _random_header(rng, valid)
        response = post_webhook(client, PAYLOAD, header)
        if header == "":
            assert response.status_code == 400
            continue
        assert response.status_code == 400, (header, response.content[:200])
        assert set(response.json()) <= {"error", "message"}
    assert_nothing_written(mongo_database)


@pytest.mark.parametrize(
    "header",
    [
        "t=1,v1=\xe9",
        "t=1,v1=\u00e9\u00e9",
        "t=1,v1=\ud800",  # a lone surrogate: only reachable by calling the function directly
        "t=1,v1=\U0001f600",
        "t=\u0661\u0662\u0663,v1=00",  # Arabic-Indic digits, which int() accepts
        "t=\uff11\uff12,v1=00",  # fullwidth digits
        "t=1,v1=\u200b",
        "t=1,v1=00\u2028",
        "\ufefft=1,v1=00",
    ],
)
def test_verify_webhook_turns_any_unreadable_header_into_a_verification_error(header):
    with pytest.raises(WebhookVerificationError) as caught:
        gateway.verify_webhook(PAYLOAD, header, [SECRET], 300)
    assert caught.value.error == "Invalid webhook signature"
    # Nothing chained: a report of this error shows no frame of stripe's parser.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_a_well_formed_header_still_verifies():
    assert gateway.verify_webhook(PAYLOAD, sign_payload(PAYLOAD, SECRET), [SECRET], 300)["id"] == "evt_hdr"


def test_a_rotated_secret_header_with_two_signatures_still_verifies():
    now = int(time.time())
    old = sign_payload(PAYLOAD, "whsec_old", timestamp=now).split("v1=")[1]
    header = f"{sign_payload(PAYLOAD, SECRET, timestamp=now)},v1={old},v0=" + "0" * 64
    assert gateway.verify_webhook(PAYLOAD, header, ["whsec_old"], 300)["id"] == "evt_hdr"


# -- error reports ----------------------------------------------------------------------


def _report(exc_info) -> tuple[str, dict[str, dict[str, object]]]:
    """Django's error report (text and HTML, as mailed to admins) and each frame's cleansed variables.

    The test's own frames (whose locals and source hold the secret) are left out.
    """
    exc_type, exc_value, tb = exc_info
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    reporter = ExceptionReporter(None, exc_type, exc_value, tb)
    frames = {}
    report_filter = SafeExceptionReporterFilter()
    for frame in reporter.get_traceback_frames():
        variables = dict(report_filter.get_traceback_frame_variables(None, frame["tb"].tb_frame))
        frames.setdefault(frame["function"], variables)
    return reporter.get_traceback_text() + reporter.get_traceback_html(), frames


@override_settings(DEBUG=False)
def test_error_report_of_a_refused_header_hides_the_secrets():
    try:
        webhooks.verify(PAYLOAD, "t=1,v1=\xe9")
    except WebhookVerificationError:
        text, frames = _report(sys.exc_info())
    assert SECRET not in text
    assert frames["verify"]["secrets"] == CLEANSED
    assert frames["verify_webhook"]["secrets"] == CLEANSED


@override_settings(DEBUG=False)
def test_error_report_of_a_crash_after_verification_hides_the_secrets_and_the_signature(monkeypatch):
    # The frames below verify_webhook (stripe's own among them) once held the secret and
    # the expected signature; whatever fails there must not show them.
    def broken(text):
        raise RuntimeError("parser broke")

    monkeypatch.setattr(gateway, "parse_event_json", broken)
    header = sign_payload(PAYLOAD, configured_secret())
    try:
        webhooks.verify(PAYLOAD, header)
    except RuntimeError:
        text, frames = _report(sys.exc_info())
    assert SECRET not in text
    assert frames["verify_webhook"]["secret"] == CLEANSED
    assert frames["verify_webhook"]["secrets"] == CLEANSED
    assert frames["broken"]["text"] == CLEANSED


@override_settings(DEBUG=False)
def test_error_report_of_a_failing_client_setup_hides_the_api_key():
    key = "sk_test_do_not_print_me_4242"
    with override_settings(
        SKILLSWAP_PAYMENTS=payments_config(STRIPE_SECRET_KEY=key, STRIPE_HTTP_CLIENT="no.such.module.Client")
    ):
        try:
            gateway.get_client()
        except ImportError:
            text, frames = _report(sys.exc_info())
    assert key not in text
    assert frames["get_client"]["api_key"] == CLEANSED
    assert frames["get_client"]["config"] == CLEANSED


class ExplodingHTTPClient:
    """An HTTP client whose library code crashes while holding the request headers."""

    name = "exploding"

    def request_with_retries(self, *args, **kwargs):
        raise RuntimeError("network library crashed")

    request_stream_with_retries = request_with_retries


@override_settings(DEBUG=False)
def test_error_report_of_a_failing_stripe_call_hides_the_api_key():
    key = "sk_test_do_not_print_me_4242"
    client_path = f"{__name__}.ExplodingHTTPClient"
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(STRIPE_SECRET_KEY=key, STRIPE_HTTP_CLIENT=client_path)):
        try:
            gateway.retrieve_checkout_session("cs_test_1")
        except (RuntimeError, GatewayError):
            text, frames = _report(sys.exc_info())
    assert "request_with_retries" in frames
    assert key not in text
