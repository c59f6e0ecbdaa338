import pytest

from interviewer.config import ConfigError, Mode, load_settings


def test_wrong_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERVIEW_DEFAULT_MINUTES", "90")
    with pytest.raises(ConfigError, match="INTERVIEW_DEFAULT_MINUTES"):
        load_settings()


def test_emulator_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERVIEWER_MODE", "production")
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    with pytest.raises(ConfigError, match="FIREBASE_AUTH_EMULATOR_HOST"):
        load_settings()


def test_production_needs_a_real_livekit_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIVEKIT_API_SECRET", raising=False)
    monkeypatch.setenv("INTERVIEWER_MODE", "production")
    settings = load_settings()
    assert settings.mode is Mode.production
    with pytest.raises(ConfigError, match="LIVEKIT_API_SECRET"):
        settings.livekit_secret()
    monkeypatch.setenv("LIVEKIT_API_SECRET", "short")
    with pytest.raises(ConfigError, match="LIVEKIT_API_SECRET"):
        load_settings()
