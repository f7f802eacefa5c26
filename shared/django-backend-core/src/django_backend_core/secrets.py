"""One redaction helper for every error message, log line, payload and repr.

Backends hold API tokens, access secrets and passwords. Stores echo them back in surprising
places (URLs in error texts, request dumps in payloads), so everything a backend shows a human
goes through a :class:`Redactor` that knows the connection's secret values, plus generic
patterns (``token=...`` query values, ``Authorization: Bearer ...``). :class:`Secret` keeps a
value out of reprs; :class:`RedactingFilter` applies a redactor to log records.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "********"

# Settings/payload keys whose values are secret (Django's debug page uses a similar rule).
SENSITIVE_KEY = re.compile(
    r"(?i)(?:^|[_\-.])(?:api[_\-]?key|apikey|token|access[_\-]?token|auth[_\-]?token|secret|"
    r"client[_\-]?secret|password|passwd|pass|pwd|authorization|auth|access[_\-]?key|"
    r"private[_\-]?key|signature|cookie|credentials?)(?:$|[_\-.])"
)

# key=value pairs in URLs, headers dumped as text, or "key": "value" JSON fragments.
_QUERY_VALUE = re.compile(
    r"(?i)(?P<key>\b(?:api[_\-]?key|apikey|access[_\-]?token|auth[_\-]?token|token|secret|"
    r"client[_\-]?secret|password|passwd|pwd|sig|signature|key)=)(?P<value>[^&\s\"'#;,]+)"
)
_BEARER = re.compile(r"(?i)\b(?P<scheme>bearer)\s+(?P<value>[A-Za-z0-9._~+/=\-]{4,})")
_AUTH_HEADER = re.compile(
    r"(?i)(?P<key>\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?"
    r"(?:(?:bearer|basic|token|digest|negotiate|apikey)\s+)?)"
    r"(?!(?:bearer|basic|token|digest|negotiate|apikey)\b)(?P<value>[A-Za-z0-9._~+/=\-]{4,})"
)
_JSON_PAIR = re.compile(
    r"(?i)(?P<key>[\"'](?:api[_\-]?key|apikey|access[_\-]?token|auth[_\-]?token|token|secret|"
    r"client[_\-]?secret|password|passwd|authorization|x-api-key)[\"']\s*:\s*[\"'])"
    r"(?P<value>[^\"']+)"
)
_URL_USERINFO = re.compile(r"(?P<prefix>[a-z][a-z0-9+.\-]*://[^/\s:@]*:)(?P<value>[^@\s/]+)(?=@)")


class Secret:
    """A secret value whose ``str``/``repr`` are masked; ``reveal()`` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            other = other._value
        if not isinstance(other, str):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable on purpose: Django's parallel test runner (spawn/forkserver) pickles
        # settings_dict to workers. Masking is about display, not about process boundaries.
        return (Secret, (self._value,))


def reveal(value: str | Secret | None) -> str | None:
    """The plain value of a ``Secret`` or ``str`` (settings may hold either)."""
    return value.reveal() if isinstance(value, Secret) else value


class Redactor:
    """Masks known secret values and generic credential patterns in text and objects.

    Every non-empty secret is masked, also in its URL-encoded and JSON-escaped forms.
    """

    def __init__(self, *secrets: str | Secret | None) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for s in secrets:
            self.add(s)

    @classmethod
    def from_settings(
        cls, settings_dict: Mapping[str, Any], *extra: str | Secret | None
    ) -> Redactor:
        """A redactor for every value under a sensitive key (TOKEN, KEY, SECRET, PASS, ...)
        anywhere in a Django ``DATABASES`` entry, including nested ``OPTIONS``."""
        redactor = cls(*extra)
        for value in _sensitive_values(settings_dict):
            redactor.add(value)
        return redactor

    def __repr__(self) -> str:
        return f"<Redactor {len(self._secrets)} secret(s)>"

    def __len__(self) -> int:
        return len(self._secrets)

    def add(self, secret: str | Secret | bytes | None) -> None:
        if isinstance(secret, Secret):
            secret = secret.reveal()
        if isinstance(secret, bytes):
            secret = secret.decode("utf-8", "replace")
        if not isinstance(secret, str) or not secret:
            return
        forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
        if not forms - self._secrets:
            return
        self._secrets |= {f for f in forms if f}
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def redact(self, text: Any) -> str:
        """``text`` (anything; non-strings are ``str()``-ed) with secrets masked."""
        if not isinstance(text, str):
            text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        if "=" in text:
            text = _QUERY_VALUE.sub(lambda m: m.group("key") + MASK, text)
        text = _BEARER.sub(lambda m: f"{m.group('scheme')} {MASK}", text)
        text = _AUTH_HEADER.sub(lambda m: m.group("key") + MASK, text)
        text = _JSON_PAIR.sub(lambda m: m.group("key") + MASK, text)
        text = _URL_USERINFO.sub(lambda m: m.group("prefix") + MASK, text)
        return text

    def redact_obj(self, obj: Any) -> Any:
        """A copy of nested dicts/lists/tuples with strings redacted and values under
        sensitive keys masked. Other leaves (numbers, None, bools) are kept."""
        if isinstance(obj, str):
            return self.redact(obj)
        if isinstance(obj, bytes):
            return self.redact(obj).encode()
        if isinstance(obj, Secret):
            return MASK
        if isinstance(obj, Mapping):
            out: dict[Any, Any] = {}
            for key, value in obj.items():
                if (
                    isinstance(key, str)
                    and SENSITIVE_KEY.search(key)
                    and isinstance(value, str | bytes | Secret)
                    and value
                ):
                    out[key] = MASK
                else:
                    out[key] = self.redact_obj(value)
            return out
        if isinstance(obj, list | tuple | set | frozenset):
            items = [self.redact_obj(v) for v in obj]
            return items if isinstance(obj, list) else type(obj)(items)
        if isinstance(obj, int | float | bool) or obj is None:
            return obj
        return (
            self.redact(repr(obj)) if not isinstance(obj, BaseException) else self.redact(str(obj))
        )

    def __contains__(self, text: object) -> bool:
        """True if ``text`` contains a known secret."""
        return (
            isinstance(text, str) and self._pattern is not None and bool(self._pattern.search(text))
        )


def _sensitive_values(obj: Any, key: str = "") -> Iterable[str | Secret]:
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from _sensitive_values(v, str(k))
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from _sensitive_values(v, key)
    elif isinstance(obj, Secret):
        yield obj
    elif isinstance(obj, str) and key and SENSITIVE_KEY.search(key):
        yield obj


#: Process-wide redactor: backends add their connection secrets here so that log filters and
#: reports without a connection at hand still mask them.
default_redactor = Redactor()


def register(*secrets: str | Secret | None) -> None:
    """Add secrets to :data:`default_redactor`."""
    for s in secrets:
        default_redactor.add(s)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts messages, args and tracebacks of every record.

    Attach it to handlers (``handler.addFilter(RedactingFilter())``) or loggers. Uses
    :data:`default_redactor` unless given one.
    """

    def __init__(self, redactor: Redactor | None = None, name: str = "") -> None:
        super().__init__(name)
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = self.redactor or default_redactor
        try:
            message = record.getMessage()
        except Exception:  # bad format args: still never let the raw args through
            message = f"{record.msg} {record.args!r}"
        record.msg = redactor.redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redactor.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redactor.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redactor.redact(record.stack_info)
        return True
