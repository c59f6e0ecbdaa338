"""Signature, expiry, audience and issuer through firebase-admin's PRODUCTION verification path.

In emulator mode firebase-admin checks neither signature nor expiry, so these cases cannot be shown with
emulator tokens. Here FIREBASE_AUTH_EMULATOR_HOST is unset and the real verifier
(`firebase_admin._token_gen._JWTVerifier` → `google.oauth2.id_token.verify_token`) checks RS256 tokens we sign
with a key made in this test. The ONE substitution, at the firebase-admin boundary: the constant
`firebase_admin._token_gen.ID_TOKEN_CERT_URI` (Google's public x509 certificate URL for ID tokens, read when
firebase-admin builds its per-app verifier) is pointed at a loopback HTTP endpoint that stands in for Google's
and serves this test's certificate in Google's format ({kid: PEM}). Nothing else is patched; the api code
under test is the production code, unchanged.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import firebase_admin._token_gen as token_gen
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from interviewer.auth.firebase import EMULATOR_ENV
from tests.fixtures.api import ApiHarness, MakeApi

pytestmark = pytest.mark.integration

PROJECT = "demo-interviewer"


def _key_and_cert() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.test-stand-in")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class GoogleCertsStandIn:
    url: str
    kid: str
    key: rsa.RSAPrivateKey
    hits: list[str]

    def sign(self, *, key: rsa.RSAPrivateKey | None = None, kid: str | None = None, **overrides: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": f"https://securetoken.google.com/{PROJECT}",
            "aud": PROJECT,
            "auth_time": now - 10,
            "user_id": "prod-path-user",
            "sub": "prod-path-user",
            "iat": now - 10,
            "exp": now + 3600,
            "email": "prod@example.com",
            "firebase": {"identities": {}, "sign_in_provider": "password"},
        }
        payload.update(overrides)
        pem = (key or self.key).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return jwt.encode(payload, pem, algorithm="RS256", headers={"kid": kid or self.kid})


@pytest.fixture
def google_certs() -> Iterator[GoogleCertsStandIn]:
    """A loopback stand-in for https://www.googleapis.com/robot/v1/metadata/x509/securetoken@... ."""
    key, cert_pem = _key_and_cert()
    kid = secrets.token_hex(20)
    hits: list[str] = []
    document = json.dumps({kid: cert_pem}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield GoogleCertsStandIn(f"http://127.0.0.1:{server.server_port}/certs", kid, key, hits)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def prod_api(
    make_api: MakeApi, google_certs: GoogleCertsStandIn, monkeypatch: pytest.MonkeyPatch
) -> ApiHarness:
    monkeypatch.delenv(EMULATOR_ENV, raising=False)
    monkeypatch.setattr(token_gen, "ID_TOKEN_CERT_URI", google_certs.url)
    harness = make_api()
    assert harness.settings.firebase_auth_emulator_host is None and not harness.verifier.emulated
    return harness


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _post(harness: ApiHarness, token: str) -> Any:
    return harness.client.post(
        "/v1/interviews", json={"role": "backend-engineer"}, headers=harness.bearer(token)
    )


def test_a_correctly_signed_token_is_accepted(prod_api: ApiHarness, google_certs: GoogleCertsStandIn) -> None:
    """The positive control: without it the rejections below could pass for the wrong reason."""
    response = _post(prod_api, google_certs.sign())
    assert response.status_code == 201, response.text
    assert google_certs.hits, "the verifier never fetched the certificates: not the production path"
    assert prod_api.interview_count() == 1
    assert prod_api.client.get("/readyz").status_code == 200


def _forged_signature(certs: GoogleCertsStandIn) -> str:
    other_key, _ = _key_and_cert()
    return certs.sign(key=other_key)  # same kid, another key


def _tampered_payload(certs: GoogleCertsStandIn) -> str:
    header, payload, signature = certs.sign().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = claims["user_id"] = "someone-else"
    return ".".join([header, _b64(json.dumps(claims).encode()), signature])


def _missing_signature(certs: GoogleCertsStandIn) -> str:
    header, payload, _signature = certs.sign().split(".")
    return f"{header}.{payload}."


def _alg_none(certs: GoogleCertsStandIn) -> str:
    _header, payload, _signature = certs.sign().split(".")
    return ".".join([_b64(json.dumps({"alg": "none", "kid": certs.kid}).encode()), payload, ""])


def _hs256_with_public_cert(certs: GoogleCertsStandIn) -> str:
    """Algorithm confusion: HMAC keyed with the public key material."""
    _h, payload, _s = certs.sign().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    public = certs.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return jwt.encode(claims, public.decode()[:64], algorithm="HS256", headers={"kid": certs.kid})


CASES = {
    "expired": lambda c: c.sign(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
    "issued-in-the-future": lambda c: c.sign(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200),
    "tampered-payload": _tampered_payload,
    "forged-signature": _forged_signature,
    "missing-signature": _missing_signature,
    "alg-none": _alg_none,
    "hs256-confusion": _hs256_with_public_cert,
    "unknown-kid": lambda c: c.sign(kid="not-a-published-kid"),
    "other-project-aud": lambda c: c.sign(aud="demo-other-project"),
    "other-project-iss": lambda c: c.sign(iss="https://securetoken.google.com/demo-other-project"),
    "empty-subject": lambda c: c.sign(sub=""),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_tokens_are_401_on_the_production_path(
    prod_api: ApiHarness, google_certs: GoogleCertsStandIn, case: str
) -> None:
    response = _post(prod_api, CASES[case](google_certs))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert prod_api.interview_count() == 0


def test_expired_token_names_the_reason(prod_api: ApiHarness, google_certs: GoogleCertsStandIn) -> None:
    token = google_certs.sign(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    assert _post(prod_api, token).json()["detail"] == "expired ID token"


def test_production_verifier_fails_closed_if_the_emulator_variable_appears(
    prod_api: ApiHarness, google_certs: GoogleCertsStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the variable set, firebase-admin would skip the signature check; the verifier refuses instead."""
    monkeypatch.setenv(EMULATOR_ENV, "127.0.0.1:9")
    response = _post(prod_api, _forged_signature(google_certs))
    assert response.status_code == 503, response.text
    assert prod_api.interview_count() == 0
