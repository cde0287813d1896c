"""Credentials made safe to show: masked keys, MongoDB URIs and client options.

Reports (``payments_config``, the settings object's ``repr``) show a value
only through :func:`mask_secret`. A MongoDB URI keeps what helps an
operator (scheme, user name, hosts, database and harmless options such as
``replicaSet``) and loses every credential: the password, and the value of
every option not known to be harmless — ``tlsCertificateKeyFilePassword``,
``authMechanismProperties`` (which can carry an ``AWS_SESSION_TOKEN``),
``proxyPassword`` and any option added to MongoDB after this list was written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "…"

# Option names compare case-insensitively, as MongoDB's do.
HARMLESS_MONGO_OPTIONS = frozenset(
    name.lower()
    for name in (
        "appName",
        "authMechanism",
        "authSource",
        "compressors",
        "connect",
        "connectTimeoutMS",
        "directConnection",
        "heartbeatFrequencyMS",
        "journal",
        "loadBalanced",
        "localThresholdMS",
        "maxConnecting",
        "maxIdleTimeMS",
        "maxPoolSize",
        "maxStalenessSeconds",
        "minPoolSize",
        "readConcernLevel",
        "readPreference",
        "readPreferenceTags",
        "replicaSet",
        "retryReads",
        "retryWrites",
        "serverMonitoringMode",
        "serverSelectionTimeoutMS",
        "serverSelectionTryOnce",
        "socketTimeoutMS",
        "srvMaxHosts",
        "srvServiceName",
        "ssl",
        "timeoutMS",
        "tls",
        "tlsAllowInvalidCertificates",
        "tlsAllowInvalidHostnames",
        "tlsCAFile",
        "tlsCertificateKeyFile",
        "tlsDisableOCSPEndpointCheck",
        "tlsInsecure",
        "tz_aware",
        "uuidRepresentation",
        "w",
        "waitQueueTimeoutMS",
        "wTimeoutMS",
        "zlibCompressionLevel",
    )
)

_STRIPE_KEY_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_", "whsec_")
# What may stand between "://[userinfo@]" and the path: host names, IP literals, ports,
# percent-encoded socket paths, commas between hosts.
_HOSTS = re.compile(r"[A-Za-z0-9._~%:,\[\]-]*")
# A database name never needs these; finding one there means the URI is not what it seems
# (say, a password with an unescaped "/"), and the whole URI is hidden.
_SUSPICIOUS_IN_DATABASE = re.compile(r"[@:/\s]")
_OPTION_SEPARATOR = re.compile(r"[&;]")


def mask_secret(value: Any) -> str:
    """Mask a credential for display: ``sk_test_…abcd``, ``whsec_…abcd``, a URI via :func:`mask_uri`."""
    if value in (None, ""):
        return "(not set)"
    if isinstance(value, (list, tuple)):
        return ", ".join(mask_secret(item) for item in value)
    if isinstance(value, Mapping):
        return mask_client_options(value)
    text = str(value)
    if "://" in text:
        return mask_uri(text)
    prefix = next((candidate for candidate in _STRIPE_KEY_PREFIXES if text.startswith(candidate)), "")
    if len(text) - len(prefix) <= 4:
        return f"{prefix}{MASK}"
    return f"{prefix}{MASK}{text[-4:]}"


def _mask_option(item: str) -> str:
    name, equals, _value = item.partition("=")
    if not item or (equals and name.lower() in HARMLESS_MONGO_OPTIONS):
        return item
    return f"{name}={MASK}" if equals else MASK


def mask_uri(uri: str) -> str:
    """``uri`` with its password and every option value not known to be harmless masked.

    ``mongodb://app:pw@db.example.com/app?replicaSet=rs0&tlsCertificateKeyFilePassword=x``
    becomes ``mongodb://app:…@db.example.com/app?replicaSet=rs0&tlsCertificateKeyFilePassword=…``.
    A URI that does not parse the way MongoDB drivers read one is hidden entirely.
    """
    scheme, _, rest = uri.strip().partition("://")
    # As the drivers do: the host list ends at the first "/", the user info at its last "@".
    host_part, slash, path = rest.partition("/")
    userinfo, at, hosts = host_part.rpartition("@")
    path, hash_mark, _fragment = path.partition("#")
    database, question, query = path.partition("?")
    if not _HOSTS.fullmatch(hosts) or _SUSPICIOUS_IN_DATABASE.search(database):
        return f"{scheme}://{MASK} (hidden: not a well-formed URI)"
    shown = f"{scheme}://"
    if at:
        user, colon, _password = userinfo.partition(":")
        shown += f"{user}:{MASK}@" if colon else f"{user}@"
    shown += hosts + slash + database
    if question:
        shown += "?" + "&".join(_mask_option(item) for item in _OPTION_SEPARATOR.split(query))
    if hash_mark:
        shown += f"#{MASK}"
    return shown


def mask_client_options(options: Mapping[Any, Any]) -> str:
    """A dict of MongoClient options with every value not known to be harmless masked."""
    shown = ", ".join(
        f"{key!r}: {value!r}"
        if isinstance(key, str) and key.lower() in HARMLESS_MONGO_OPTIONS
        else f"{key!r}: {MASK!r}"
        for key, value in options.items()
    )
    return "{" + shown + "}"


def uri_option_names(uri: str) -> frozenset[str]:
    """The option names set in a MongoDB URI's query string, lower-cased."""
    path = uri.partition("://")[2].partition("/")[2]
    query = path.partition("#")[0].partition("?")[2]
    return frozenset(
        item.partition("=")[0].strip().lower() for item in _OPTION_SEPARATOR.split(query) if item
    )
