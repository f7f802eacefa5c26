"""SessionStore on Cassandra: LWT for creation (no key collisions), TTL for expiry."""

from __future__ import annotations

import datetime
from typing import Any

from cassandra.cqlengine.query import LWTException
from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from django.utils import timezone


class SessionStore(SessionBase):
    @classmethod
    def get_model_class(cls) -> Any:
        from ..models import AstraSession

        return AstraSession

    @property
    def model(self) -> Any:
        return self.get_model_class()

    def _get_session_from_db(self) -> Any:
        try:
            s = self.model.objects.get(session_key=self.session_key)
        except self.model.DoesNotExist:
            self._session_key = None
            return None
        expire = s.expire_date
        if expire is not None and timezone.is_naive(expire):
            expire = timezone.make_aware(expire, datetime.UTC)
        if expire is not None and expire <= timezone.now():
            self._session_key = None
            return None
        return s

    def load(self) -> dict[str, Any]:
        s = self._get_session_from_db() if self.session_key else None
        return self.decode(s.session_data) if s else {}

    def exists(self, session_key: str) -> bool:
        return self.model.objects.filter(session_key=session_key).count() > 0

    def create(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        ttl = max(1, int(self.get_expiry_age()))
        expire = self.get_expiry_date()
        row = {
            "session_key": self._get_or_create_session_key(),
            "session_data": self.encode(data),
            "expire_date": expire,
        }
        if must_create:
            try:
                self.model.if_not_exists().ttl(ttl).create(**row)
            except LWTException:
                raise CreateError from None
            return
        key = row.pop("session_key")
        try:
            # Like Django's db backend: saving a session deleted meanwhile is an UpdateError.
            self.model.objects(session_key=key).if_exists().ttl(ttl).update(**row)
        except LWTException:
            raise UpdateError from None

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self.model.objects.filter(session_key=session_key).delete()

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: Cassandra drops expired sessions through their TTL."""
