"""Identity verification: the `IdentityVerifier` interface and its Firebase implementation."""

from interviewer.auth.base import Identity, IdentityProviderUnavailable, IdentityVerifier, InvalidCredentials
from interviewer.auth.firebase import FirebaseVerifier

__all__ = [
    "FirebaseVerifier",
    "Identity",
    "IdentityProviderUnavailable",
    "IdentityVerifier",
    "InvalidCredentials",
]
