"""Validate a ``DATABASES`` entry and report every problem at once.

Fixing settings one ImproperlyConfigured at a time is slow, and each backend would otherwise
hand-roll the checks. :func:`validate` names every missing and invalid key in one error, and
never echoes values under secret-looking keys (TOKEN, KEY, SECRET, PASS, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .secrets import SENSITIVE_KEY, Redactor

_MISSING = object()

#: A validator gets the value and returns None/True when valid, or False/an error string
#: when not; it may also raise ValueError/TypeError with the reason.
Validator = Callable[[Any], Any]


def lookup(settings_dict: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """``settings_dict[key]``, where ``key`` may be dotted into nested dicts
    (``"OPTIONS.account_id"``); ``default`` if any part is missing."""
    value: Any = settings_dict
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return default
        value = value[part]
    return value


def _is_missing(value: Any) -> bool:
    return value is _MISSING or value is None or (isinstance(value, str) and not value.strip())


def validate(
    settings_dict: Mapping[str, Any],
    *,
    backend: str,
    required: Iterable[str] = (),
    validators: Mapping[str, Validator] | None = None,
) -> None:
    """Raise one ImproperlyConfigured naming every missing/invalid key, or return None.

    ``required``: keys (dotted for nested, e.g. ``"OPTIONS.token"``) that must be present and
    non-empty. ``validators``: key -> callable, run for keys that are present. The exception
    has ``missing`` and ``invalid`` (key -> reason) attributes for tests.
    """
    validators = validators or {}
    missing = [key for key in required if _is_missing(lookup(settings_dict, key, _MISSING))]
    invalid: dict[str, str] = {}
    for key, check in validators.items():
        value = lookup(settings_dict, key, _MISSING)
        if _is_missing(value) or key in missing:
            continue
        try:
            outcome = check(value)
        except (ValueError, TypeError) as exc:
            outcome = str(exc) or "invalid value"
        if outcome is None or outcome is True:
            continue
        reason = outcome if isinstance(outcome, str) else "invalid value"
        if not SENSITIVE_KEY.search(key.rsplit(".", 1)[-1]):
            reason = f"{reason} (got {value!r})"
        invalid[key] = reason
    if not missing and not invalid:
        return
    redactor = Redactor.from_settings(settings_dict)
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing))
    if invalid:
        parts.append("invalid " + "; ".join(f"{k}: {v}" for k, v in invalid.items()))
    message = redactor.redact(f"{backend}: DATABASES settings problem(s): " + "; ".join(parts))
    error = ImproperlyConfigured(message)
    error.missing = missing
    error.invalid = {k: redactor.redact(v) for k, v in invalid.items()}
    raise error


# --- ready-made validators --------------------------------------------------------------------


def one_of(*choices: Any) -> Validator:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(map(repr, choices))}"

    return check


def is_int(minimum: int | None = None, maximum: int | None = None) -> Validator:
    def check(value: Any) -> str | None:
        if isinstance(value, bool):
            return "must be an integer"
        try:
            number = int(value)
        except (TypeError, ValueError):
            return "must be an integer"
        if minimum is not None and number < minimum:
            return f"must be >= {minimum}"
        if maximum is not None and number > maximum:
            return f"must be <= {maximum}"
        return None

    return check


def is_url(*schemes: str) -> Validator:
    from urllib.parse import urlsplit

    allowed = schemes or ("http", "https")

    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return "must be a URL string"
        parts = urlsplit(value)
        if parts.scheme not in allowed or not parts.netloc:
            return f"must be a {'/'.join(allowed)} URL"
        return None

    return check
