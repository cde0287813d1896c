"""Request parameters: Stripe's form encoding, validated against stripe-python's TypedDicts.

Stripe rejects any parameter it does not know, and an emulator that quietly
accepts a typo would let a broken integration pass its tests.  Rather than keep
a hand-written list of allowed parameters (which would drift), every request is
checked against the ``*Params`` TypedDicts that stripe-python generates from
Stripe's OpenAPI description, e.g. ``stripe.params.checkout.SessionCreateParams``.

The TypedDicts describe the Python call signature, so a few keys are request
options rather than wire parameters (``api_key``, ``idempotency_key``...); those
come from ``RequestOptions`` and are not accepted on the wire.

:func:`check_metadata` adds Stripe's metadata size limits, which the
TypedDicts do not express.
"""

from __future__ import annotations

import decimal
import re
import sys
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import typing_extensions
from stripe._request_options import RequestOptions
from stripe._stripe_object import UntypedStripeObject

from .errors import StripeError, invalid_request

#: Keys that stripe-python accepts as call options; they are never sent as form fields.
REQUEST_OPTION_KEYS = frozenset(RequestOptions.__annotations__)

_NONE_TYPE = type(None)
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class ParamError(StripeError):
    """A parameter failed validation; rendered as a 400 ``invalid_request_error``."""

    def __init__(self, message: str, *, param: str | None, code: str | None = None):
        super().__init__(400, "invalid_request_error", message, code=code, param=param)


# --------------------------------------------------------------------------- decoding


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn ``[("line_items[0][price_data][currency]", "usd"), ...]`` into nested data.

    Indexed segments stay dict keys (``{"0": {...}}``) because only the schema
    knows whether ``metadata[0]`` is a list element or a metadata key named
    "0"; :func:`validate` converts them.  An empty segment (``expand[]``)
    appends to a list.
    """
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        head, _, rest = raw_key.partition("[")
        segments = [head] + (_SEGMENT.findall("[" + rest) if rest else [])
        node: Any = root
        for position, segment in enumerate(segments):
            last = position == len(segments) - 1
            following = None if last else segments[position + 1]
            if isinstance(node, list):
                # ``a[][b]`` style is not produced by any Stripe client; treat
                # each appended element as its own scalar.
                node.append(value if last else {})
                node = node[-1]
                continue
            if last:
                node[segment] = value
            else:
                container: Any = [] if following == "" else {}
                existing = node.get(segment)
                if not isinstance(existing, (dict, list)):
                    node[segment] = container
                node = node[segment]
    return root


def parse_query(query: str) -> dict[str, Any]:
    """Decode a URL query string with Stripe's bracket notation."""
    from urllib.parse import parse_qsl

    return decode_form(parse_qsl(query, keep_blank_values=True))


# --------------------------------------------------------------------------- metadata limits

# The TypedDicts type ``metadata`` as a plain string map; Stripe's size limits
# are checked by the operations that accept metadata.
_METADATA_MAX_KEYS = 50
_METADATA_MAX_KEY_LENGTH = 40
_METADATA_MAX_VALUE_LENGTH = 500


def check_metadata(metadata: Mapping[str, Any] | None, param: str) -> None:
    """Stripe's metadata limits: 50 keys, 40-character keys, 500-character values."""
    if not metadata:
        return
    if len(metadata) > _METADATA_MAX_KEYS:
        raise invalid_request(
            f"Invalid {param}: metadata can have at most {_METADATA_MAX_KEYS} keys, but you passed {len(metadata)}.",
            param=param,
        )
    for key, value in metadata.items():
        if len(key) > _METADATA_MAX_KEY_LENGTH:
            raise invalid_request(
                f"Metadata keys can have up to {_METADATA_MAX_KEY_LENGTH} characters, but you passed in a key that "
                f"is {len(key)} characters. Invalid key: {key}",
                param=f"{param}[{key}]",
            )
        if len(str(value)) > _METADATA_MAX_VALUE_LENGTH:
            raise invalid_request(
                f"Metadata values can have up to {_METADATA_MAX_VALUE_LENGTH} characters, but you passed in a value "
                f"that is {len(str(value))} characters.",
                param=f"{param}[{key}]",
            )


# --------------------------------------------------------------------------- validation


def validate(params_class: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``data`` against a stripe-python ``*Params`` TypedDict.

    Returns the data with values converted to their Python types (``int``,
    ``bool``, ``Decimal``, lists).  Raises :class:`ParamError` with Stripe's
    wording for the first problem found.
    """
    return _validate_typed_dict(params_class, data, path="", top_level=True)


def _path(parent: str, key: str) -> str:
    return f"{parent}[{key}]" if parent else key


def _fields(td: type, *, top_level: bool) -> dict[str, Any]:
    """The wire fields of a TypedDict, without stripe-python's request options."""
    annotations = dict(td.__annotations__)
    if top_level:
        for key in REQUEST_OPTION_KEYS:
            if annotations.get(key) is RequestOptions.__annotations__[key]:
                del annotations[key]
    return annotations


def _validate_typed_dict(
    td: type, data: Any, *, path: str, top_level: bool = False
) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ParamError("Invalid object", param=path or None)
    fields = _fields(td, top_level=top_level)
    result: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            raise ParamError(
                f"Received unknown parameter: {_path(path, key)}",
                param=_path(path, key),
                code="parameter_unknown",
            )
        result[key] = _coerce(fields[key], value, _path(path, key), td)
    for key in sorted(td.__required_keys__):
        if key in fields and key not in data:
            raise ParamError(
                f"Missing required param: {_path(path, key)}.",
                param=_path(path, key),
                code="parameter_missing",
            )
    return result


def resolve(annotation: Any, owner: type) -> Any:
    """Evaluate a (possibly string) annotation in the namespace of the module defining ``owner``."""
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        namespace = vars(sys.modules[owner.__module__])
        annotation = eval(annotation, namespace)  # noqa: S307 - trusted, library-generated annotation text
    return annotation


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _members(tp: Any, owner: type) -> list[Any]:
    """Flatten NotRequired/Required/Union wrappers into the list of accepted types."""
    tp = resolve(tp, owner)
    origin = typing.get_origin(tp)
    if origin in (typing_extensions.NotRequired, typing_extensions.Required):
        return _members(typing.get_args(tp)[0], owner)
    if _is_union(tp):
        flattened: list[Any] = []
        for arg in typing.get_args(tp):
            flattened.extend(_members(arg, owner))
        return flattened
    return [tp]


def _coerce(annotation: Any, value: Any, path: str, owner: type) -> Any:
    members = [m for m in _members(annotation, owner) if m is not _NONE_TYPE]
    if isinstance(value, (dict, list)):
        containers = [m for m in members if _kind(m) in ("typeddict", "map", "list")]
        # An object-shaped value can only match a container type; prefer the
        # most specific one (TypedDict, then free-form map, then array).
        containers.sort(key=lambda m: ("typeddict", "map", "list").index(_kind(m)))
        if isinstance(value, list):
            containers = [m for m in containers if _kind(m) == "list"]
        elif not _looks_indexed(value):
            containers = [m for m in containers if _kind(m) != "list"]
        if not containers:
            scalar_kinds = {_kind(m) for m in members}
            raise ParamError(
                "Invalid array" if scalar_kinds == {"list"} else f"Invalid {_scalar_name(members)}",
                param=path,
            )
        return _coerce_container(containers[0], value, path, owner)

    # A scalar (always a string on the wire).
    scalars = [m for m in members if _kind(m) not in ("typeddict", "map", "list")]
    if not scalars:
        kinds = {_kind(m) for m in members}
        raise ParamError("Invalid array" if kinds == {"list"} else "Invalid object", param=path)
    choices = [
        str(choice) for m in scalars if _kind(m) == "literal" for choice in typing.get_args(m)
    ]
    if value in choices:
        return value
    others = [m for m in scalars if _kind(m) != "literal"]
    if not others:
        raise ParamError(f"Invalid {path}: must be one of {_one_of(choices)}", param=path)
    first_error: ParamError | None = None
    for member in sorted(others, key=_scalar_priority):
        try:
            return _coerce_scalar(member, value, path)
        except ParamError as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def _looks_indexed(value: Mapping[str, Any]) -> bool:
    return bool(value) and all(key.isdigit() for key in value)


def _kind(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if typing_extensions.is_typeddict(tp):
        return "typeddict"
    if origin in (typing.Literal, typing_extensions.Literal):
        return "literal"
    if origin in (list, list) or tp is list:
        return "list"
    if origin in (dict, dict) or tp is dict or origin is UntypedStripeObject:
        return "map"
    if tp is typing.Any:
        return "any"
    return "scalar"


def _scalar_priority(tp: Any) -> int:
    # Plain ``str`` (the "open enum" escape hatch) before numbers, so its
    # error is the one reported when nothing matches.
    return 0 if tp is str or _kind(tp) == "any" else 1


def _scalar_name(members: list[Any]) -> str:
    for member in members:
        if member is int:
            return "integer"
        if member is bool:
            return "boolean"
    return "string"


def _coerce_container(tp: Any, value: Any, path: str, owner: type) -> Any:
    kind = _kind(tp)
    if kind == "typeddict":
        return _validate_typed_dict(tp, value, path=path)
    if kind == "map":
        args = typing.get_args(tp)
        value_type = args[-1] if args else str
        if not isinstance(value, dict):
            raise ParamError("Invalid object", param=path)
        return {
            key: _coerce(value_type, item, _path(path, key), owner) for key, item in value.items()
        }
    # list
    args = typing.get_args(tp)
    item_type = args[0] if args else str
    if isinstance(value, dict):
        items = [value[key] for key in sorted(value, key=int)]
        indexes = sorted(int(key) for key in value)
    else:
        items = list(value)
        indexes = list(range(len(items)))
    return [
        _coerce(item_type, item, _path(path, str(index)), owner)
        for index, item in zip(indexes, items, strict=True)
    ]


def _coerce_scalar(tp: Any, value: Any, path: str) -> Any:
    kind = _kind(tp)
    if tp is str or kind == "any":
        if value == "":
            raise _empty_string(path)
        return value
    if tp is bool:
        if value in ("true", "false"):
            return value == "true"
        raise ParamError(f"Invalid boolean: {value}", param=path)
    if tp is int:
        if re.fullmatch(r"-?\d+", value or ""):
            return int(value)
        if value == "":
            raise _empty_string(path)
        raise ParamError(f"Invalid integer: {value}", param=path, code="parameter_invalid_integer")
    if tp in (decimal.Decimal, float):
        try:
            number = decimal.Decimal(value)
        except decimal.InvalidOperation:
            raise ParamError(f"Invalid decimal: {value}", param=path) from None
        if not number.is_finite():
            raise ParamError(f"Invalid decimal: {value}", param=path)
        return number
    raise ParamError(f"Invalid value for {path}.", param=path)


def _empty_string(path: str) -> ParamError:
    return ParamError(
        f"You passed an empty string for '{path}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{path}' cannot be unset. You should remove '{path}' "
        "from your request or supply a non-empty value.",
        param=path,
        code="parameter_invalid_empty",
    )


def _one_of(choices: list[str]) -> str:
    named = [c for c in choices if c != ""] or ['""']
    if len(named) == 1:
        return named[0]
    return ", ".join(named[:-1]) + ", or " + named[-1]


def reachable_typed_dicts(params_class: type) -> list[type]:
    """Every TypedDict reachable from ``params_class`` (used to prove the schema walk is total)."""
    seen: list[type] = []
    pending = [params_class]
    while pending:
        td = pending.pop()
        if td in seen:
            continue
        seen.append(td)
        for annotation in _fields(td, top_level=td is params_class).values():
            stack = _members(annotation, td)
            while stack:
                member = stack.pop()
                kind = _kind(member)
                if kind == "typeddict":
                    pending.append(member)
                elif kind in ("list", "map"):
                    args = typing.get_args(member)
                    if args:
                        stack.extend(_members(args[-1], td))
    return seen


def annotation_kinds(params_class: type) -> dict[str, int]:
    """Count the kinds of leaf types under ``params_class``; "scalar" leaves must be known types."""
    counts: dict[str, int] = {}
    for td in reachable_typed_dicts(params_class):
        for annotation in _fields(td, top_level=td is params_class).values():
            stack = _members(annotation, td)
            while stack:
                member = stack.pop()
                kind = _kind(member)
                if kind == "scalar":
                    kind = f"scalar:{getattr(member, '__name__', repr(member))}"
                counts[kind] = counts.get(kind, 0) + 1
                if kind in ("list", "map"):
                    args = typing.get_args(member)
                    if args:
                        stack.extend(_members(args[-1], td))
    return counts
