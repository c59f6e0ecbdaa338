"""Firebase ID-token verification with firebase-admin (`auth.verify_id_token`, optional revocation check).

Production: firebase-admin checks the RS256 signature against Google's public certificates, the expiry, the
audience (the project id) and the issuer. That needs no service account, so by default the app gets a
credential that only allows fetching public keys; the revocation check (a user-record lookup) needs real
credentials (Application Default Credentials on Cloud Run).

Emulator (development/test only): with `FIREBASE_AUTH_EMULATOR_HOST` set, firebase-admin talks to the local
emulator and accepts its unsigned tokens WITHOUT checking signature or expiry. firebase-admin reads that
variable from `os.environ` on every call, so this verifier insists that the environment says exactly what its
settings say, on every call: a production-configured verifier never runs while the variable is set (it fails
closed, 503), and the emulator is refused outright outside development/test.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from typing import Any

import firebase_admin
import google.auth.credentials
import google.auth.exceptions
import httpx
from firebase_admin import _token_gen, auth, credentials
from firebase_admin import exceptions as fb_exceptions

from interviewer.auth.base import Identity, IdentityProviderUnavailable, InvalidCredentials
from interviewer.config import ConfigError, Settings

log = logging.getLogger(__name__)

EMULATOR_ENV = "FIREBASE_AUTH_EMULATOR_HOST"
CLOCK_SKEW_SECONDS = 5
PING_CACHE_SECONDS = 30.0


class PublicKeysOnlyCredential(credentials.Base):  # type: ignore[misc]
    """Verifying ID tokens needs only Google's public certificates, not a service account."""

    def get_credential(self) -> google.auth.credentials.Credentials:
        return google.auth.credentials.AnonymousCredentials()  # type: ignore[no-untyped-call]


class FirebaseVerifier:
    """`IdentityVerifier` for Firebase Authentication; one private firebase-admin App per instance."""

    def __init__(
        self,
        settings: Settings,
        *,
        credential: credentials.Base | None = None,
        app_name: str | None = None,
    ) -> None:
        emulator = settings.firebase_auth_emulator_host or None
        if emulator and not settings.is_dev:
            raise ConfigError(
                f"{EMULATOR_ENV} is set while INTERVIEWER_MODE={settings.mode.value}: the emulator accepts "
                "unsigned tokens, so it is refused outside development/test"
            )
        self._emulator = emulator
        self._project_id = settings.firebase_project_id
        self._check_revoked = settings.firebase_check_revoked
        self._ping_ok_until = 0.0
        self._environment_matches()  # fail at start-up, not on the first request
        if credential is None:
            needs_admin = settings.firebase_check_revoked and not emulator
            credential = credentials.ApplicationDefault() if needs_admin else PublicKeysOnlyCredential()
            if needs_admin:
                try:  # the revocation check reads user records: fail at start-up, not on every request
                    credential.get_credential()
                except google.auth.exceptions.DefaultCredentialsError as error:
                    raise ConfigError(
                        "FIREBASE_CHECK_REVOKED=true needs Google credentials (Application Default "
                        f"Credentials) to read user records: {type(error).__name__}"
                    ) from None
        self._app = firebase_admin.initialize_app(
            credential,
            options={"projectId": self._project_id, "httpTimeout": 5},
            name=app_name or f"interviewer-{secrets.token_hex(6)}",
        )

    @property
    def emulated(self) -> bool:
        return self._emulator is not None

    @property
    def project_id(self) -> str:
        return self._project_id

    def _environment_matches(self) -> None:
        actual = os.environ.get(EMULATOR_ENV) or None
        if actual != self._emulator:
            # Verifying now would run firebase-admin in the wrong mode (possibly the unsigned-token mode).
            raise ConfigError(
                f"{EMULATOR_ENV} in the environment ({'set' if actual else 'unset'}) does not match this "
                f"verifier's settings ({'set' if self._emulator else 'unset'}); refusing to verify tokens"
            )

    def verify(self, token: str, *, check_revoked: bool | None = None) -> Identity:
        check = self._check_revoked if check_revoked is None else check_revoked
        try:
            self._environment_matches()
        except ConfigError as error:
            log.error("identity verification refused: %s", error)
            raise IdentityProviderUnavailable(str(error)) from None
        try:
            claims: dict[str, Any] = auth.verify_id_token(
                token, app=self._app, check_revoked=check, clock_skew_seconds=CLOCK_SKEW_SECONDS
            )
        except auth.ExpiredIdTokenError:
            raise self._reject("expired ID token") from None
        except auth.RevokedIdTokenError:
            raise self._reject("revoked ID token") from None
        except auth.UserDisabledError:
            raise self._reject("user disabled") from None
        except auth.InvalidIdTokenError as error:
            log.info("ID token rejected: %s", _first_sentence(str(error)))
            raise InvalidCredentials("invalid ID token") from None
        except auth.UserNotFoundError:
            raise self._reject("unknown user") from None
        except auth.CertificateFetchError as error:
            log.warning("identity provider unreachable (certificates): %s", type(error).__name__)
            raise IdentityProviderUnavailable("identity provider unreachable") from None
        except (fb_exceptions.FirebaseError, google.auth.exceptions.GoogleAuthError) as error:
            log.warning("identity provider error: %s", type(error).__name__)
            raise IdentityProviderUnavailable("identity provider unreachable") from None
        except ValueError:
            raise self._reject("malformed ID token") from None
        firebase_claims = claims.get("firebase") or {}
        return Identity(
            uid=str(claims["uid"]),
            name=_str_or_none(claims.get("name")),
            email=_str_or_none(claims.get("email")),
            email_verified=bool(claims.get("email_verified", False)),
            sign_in_provider=_str_or_none(firebase_claims.get("sign_in_provider")),
            issued_at=_int_or_none(claims.get("iat")),
            expires_at=_int_or_none(claims.get("exp")),
        )

    @staticmethod
    def _reject(reason: str) -> InvalidCredentials:
        log.info("ID token rejected: %s", reason)
        return InvalidCredentials(reason)

    def ping(self) -> None:
        if time.monotonic() < self._ping_ok_until:
            return
        try:
            self._environment_matches()
        except ConfigError as error:
            raise IdentityProviderUnavailable(str(error)) from None
        # The emulator answers on its root; in production the public-certificate endpoint must answer, since
        # no token can be verified without it.
        url = f"http://{self._emulator}/" if self._emulator else _token_gen.ID_TOKEN_CERT_URI
        try:
            response = httpx.get(url, timeout=2.0)
        except httpx.HTTPError as error:
            reason = f"identity provider unreachable: {type(error).__name__}"
            raise IdentityProviderUnavailable(reason) from None
        if response.status_code != 200:
            raise IdentityProviderUnavailable(f"identity provider answered {response.status_code}")
        self._ping_ok_until = time.monotonic() + PING_CACHE_SECONDS

    def close(self) -> None:
        firebase_admin.delete_app(self._app)


def _first_sentence(message: str) -> str:
    return message.split(". ", 1)[0][:200]


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None
