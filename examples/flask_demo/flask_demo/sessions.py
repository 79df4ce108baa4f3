"""The session cookie, re-signed when it changes or is getting old, not on
every request.

A member's session is permanent (auth.py): it expires
PERMANENT_SESSION_LIFETIME (7 days) after it was last signed, and Flask
re-signs and re-sends it on every request to slide that window
(SESSION_REFRESH_EACH_REQUEST): JSON, zlib, HMAC and a Set-Cookie header
on each page view, about a tenth of a recommendation page's work
(docs/load-profile.md). Here an unchanged session is re-sent only once it
is older than MOVIEME_SESSION_REFRESH seconds (default an hour): the
window still slides, by steps of at most that much. A changed session
(login, logout, a new CSRF token, a flashed message) is sent at once as
before. The signature still carries the time it was made, and a cookie
older than the lifetime is still refused.
"""
import time

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature


class RefreshWhenOld(SecureCookieSessionInterface):
    def __init__(self):
        self._serializer = None       # (secret key, serializer), made once

    def get_signing_serializer(self, app):
        kept = self._serializer
        if kept is None or kept[0] != app.secret_key:
            kept = self._serializer = (app.secret_key,
                                       super().get_signing_serializer(app))
        return kept[1]

    def open_session(self, app, request):
        s = self.get_signing_serializer(app)
        if s is None:
            return None
        val = request.cookies.get(self.get_cookie_name(app))
        if not val:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = s.loads(val, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at.timestamp()   # not part of the data
        return session

    def should_set_cookie(self, app, session):
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        if signed_at is None:
            return True
        return time.time() - signed_at >= app.config["MOVIEME_SESSION_REFRESH"]
