"""The offline voice engine: Silero VAD, faster-whisper STT, Piper TTS, all from pinned packages."""
