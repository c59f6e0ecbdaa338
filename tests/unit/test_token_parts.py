"""Fast checks of the token service's pure parts: LiveKit token minting and the per-uid rate limiter."""

from __future__ import annotations

import json

import pytest
from livekit import api as lkapi

from interviewer import rooms
from interviewer.api.ratelimit import RateLimiter
from interviewer.config import ConfigError, load_settings


def test_dispatch_token_and_rejoin_token() -> None:
    settings = load_settings(INTERVIEWER_MODE="test", TOKEN_TTL_SECONDS=600)
    room = rooms.new_room_name()
    dispatch = rooms.DispatchMetadata(interview_id="iv_1", role="backend-engineer", candidate_uid="uid-1")
    first = rooms.mint_participant_token(settings, identity="uid-1", name="Ada", room=room, dispatch=dispatch)
    verifier = lkapi.TokenVerifier(settings.livekit_api_key, settings.livekit_secret())
    claims = verifier.verify(first.jwt)
    assert claims.identity == "uid-1" and claims.name == "Ada"
    assert claims.room_config is not None and len(claims.room_config.agents) == 1
    assert rooms.DispatchMetadata.from_json(claims.room_config.agents[0].metadata) == dispatch
    assert json.loads(dispatch.to_json()) == {
        "interview_id": "iv_1",
        "role": "backend-engineer",
        "candidate_uid": "uid-1",
    }
    rejoin = rooms.mint_participant_token(settings, identity="uid-1", name=None, room=room, dispatch=None)
    rejoin_claims = verifier.verify(rejoin.jwt)
    assert rejoin_claims.room_config is not None and len(rejoin_claims.room_config.agents) == 0
    assert rejoin_claims.name == "Candidate"
    assert first.jwt not in repr(first)  # the credential stays out of logs


def test_wrong_secret_does_not_verify() -> None:
    settings = load_settings(INTERVIEWER_MODE="test")
    token = rooms.mint_participant_token(settings, identity="u", name=None, room="r", dispatch=None)
    with pytest.raises(Exception, match="Signature"):
        lkapi.TokenVerifier(settings.livekit_api_key, "x" * 40).verify(token.jwt)


def test_room_names_are_unique_and_long() -> None:
    names = {rooms.new_room_name() for _ in range(1000)}
    assert len(names) == 1000
    assert all(len(name) == len(rooms.ROOM_PREFIX) + 32 for name in names)  # 24 bytes = 192 bits


def test_production_without_a_secret_mints_nothing() -> None:
    settings = load_settings(INTERVIEWER_MODE="production")
    with pytest.raises(ConfigError, match="LIVEKIT_API_SECRET"):
        rooms.mint_participant_token(settings, identity="u", name=None, room="r", dispatch=None)


def test_http_url() -> None:
    assert rooms.http_url("ws://127.0.0.1:7880") == "http://127.0.0.1:7880"
    assert rooms.http_url("wss://lk.example.com") == "https://lk.example.com"


def test_rate_limiter_buckets_per_key() -> None:
    now = [0.0]
    limiter = RateLimiter(3, 60.0, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.hit("a") == 20  # one token refills every 20 s
    assert limiter.hit("b") == 0
    now[0] = 19.0
    assert limiter.hit("a") == 1
    now[0] = 20.0
    assert limiter.hit("a") == 0
    assert limiter.hit("a") >= 1


def test_rate_limiter_forgets_old_keys() -> None:
    limiter = RateLimiter(1, 60.0, max_keys=2, clock=lambda: 0.0)
    for key in ("a", "b", "c"):
        assert limiter.hit(key) == 0
    assert limiter.hit("c") > 0
    assert limiter.hit("a") == 0  # evicted, so it starts again with a full bucket
