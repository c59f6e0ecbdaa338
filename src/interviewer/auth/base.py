"""The identity interface the api depends on. Firebase implements it; another IdP would plug in here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Identity:
    """A verified caller. `uid` is the only thing authorisation decisions may use."""

    uid: str
    name: str | None = None
    email: str | None = None
    email_verified: bool = False
    sign_in_provider: str | None = None
    issued_at: int | None = None
    expires_at: int | None = None


class InvalidCredentials(Exception):
    """The bearer token is not acceptable. `reason` is short and safe to show to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IdentityProviderUnavailable(Exception):
    """The provider could not be asked (certificates or user records unreachable): fail closed, 503."""


class IdentityVerifier(Protocol):
    """Turns a bearer token into a verified `Identity`; blocking (call it from a worker thread)."""

    def verify(self, token: str, *, check_revoked: bool | None = None) -> Identity:
        """Raise `InvalidCredentials` or `IdentityProviderUnavailable`; never return an unverified identity.

        `check_revoked=None` means the verifier's configured default.
        """
        ...

    def ping(self) -> None:
        """Raise `IdentityProviderUnavailable` unless the provider is reachable (for /readyz)."""
        ...

    def close(self) -> None: ...
