"""Sessions stored in the database with a copy in a cache every process shares
(``settings.CACHE_SHARED``): a request reads its session from the cache, not the database.

Django's ``cached_db`` store, made to tolerate a cache that fails (a Redis outage must not
sign anybody out or fail a request: the database answers), and keeping each copy no longer
than ``COPY_TIMEOUT``: a sign-out while the cache could not be reached leaves a copy behind,
readable for that long at most.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends import cached_db

logger = logging.getLogger(__name__)

COPY_TIMEOUT = 5 * 60


class SessionStore(cached_db.SessionStore):
    def load(self) -> dict:
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            logger.warning("The session cache could not be read.", exc_info=True)
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        self._copy(data, self.get_expiry_age(expiry=stored.expire_date))
        return data

    def save(self, must_create: bool = False) -> None:
        # The database first (the store), then the copy.
        super(cached_db.SessionStore, self).save(must_create=must_create)
        self._copy(self._session, self.get_expiry_age())

    def exists(self, session_key: str) -> bool:
        # Whether a key is taken: the database knows (a copy may have aged out).
        return super(cached_db.SessionStore, self).exists(session_key)

    def delete(self, session_key: str | None = None) -> None:
        super(cached_db.SessionStore, self).delete(session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:
            logger.warning("The session cache could not be written.", exc_info=True)

    def _copy(self, data: dict, age: int) -> None:
        try:
            self._cache.set(self.cache_key, data, min(age, COPY_TIMEOUT))
        except Exception:
            logger.warning("The session cache could not be written.", exc_info=True)
