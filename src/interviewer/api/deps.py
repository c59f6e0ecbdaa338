"""Request dependencies: the services, the verified caller, and the per-uid rate limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from interviewer.api.problems import ProblemError
from interviewer.api.ratelimit import RateLimiter
from interviewer.auth import Identity, IdentityProviderUnavailable, IdentityVerifier, InvalidCredentials
from interviewer.config import Settings
from interviewer.store import Store

MAX_TOKEN_CHARS = 8192  # Firebase ID tokens are ~1 KB; anything huge is not one


@dataclass
class Services:
    settings: Settings
    store: Store
    verifier: IdentityVerifier
    write_limiter: RateLimiter
    read_limiter: RateLimiter


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


ServicesDep = Annotated[Services, Depends(services)]

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="FirebaseIdToken",
    bearerFormat="JWT",
    description="A Firebase ID token of the signed-in candidate.",
)


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        401,
        "unauthorized",
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="interviewer", error="invalid_token"'},
    )


async def current_identity(
    svc: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Identity:
    """The verified caller, or 401. Verification may do I/O (certificates, revocation): a worker thread."""
    if credentials is None:
        raise _unauthorized("missing bearer token")
    token = credentials.credentials
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise _unauthorized("invalid ID token")
    try:
        return await run_in_threadpool(svc.verifier.verify, token)
    except InvalidCredentials as error:
        raise _unauthorized(error.reason) from None
    except IdentityProviderUnavailable:
        raise ProblemError(
            503,
            "identity-unavailable",
            "Identity provider unavailable",
            "try again shortly",
            headers={"Retry-After": "5"},
        ) from None


def _limited(limiter: RateLimiter, uid: str) -> None:
    wait = limiter.hit(uid)
    if wait:
        raise ProblemError(
            429,
            "rate-limited",
            "Too many requests",
            f"retry in {wait} s",
            headers={"Retry-After": str(wait)},
            retry_after=wait,
        )


async def writer(svc: ServicesDep, identity: Annotated[Identity, Depends(current_identity)]) -> Identity:
    """A verified caller within the write budget (credential issuance, ending)."""
    _limited(svc.write_limiter, identity.uid)
    return identity


async def reader(svc: ServicesDep, identity: Annotated[Identity, Depends(current_identity)]) -> Identity:
    """A verified caller within the (larger) read budget."""
    _limited(svc.read_limiter, identity.uid)
    return identity


Writer = Annotated[Identity, Depends(writer)]
Reader = Annotated[Identity, Depends(reader)]
