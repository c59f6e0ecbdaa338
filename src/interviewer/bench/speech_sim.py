"""Synthetic candidate speech and how to score what was heard.

The simulated candidate speaks with espeak-ng (a robotic voice, deliberately unlike the agent's Piper voice so
a test can never confuse the two), and `word_error_rate` compares transcripts the way OFFLINE-SPEECH.md
measured them: lower case, punctuation stripped, numbers as words. Pure Python and numpy; jiwer stays a
dev-only cross-check.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from livekit import rtc

ESPEAK_VOICE = "en-us+m3"
ESPEAK_WPM = 165


class SpeechSimError(RuntimeError):
    pass


def _espeak_binary() -> str:
    found = shutil.which("espeak-ng")
    if found is None:
        raise SpeechSimError("espeak-ng not found: `make system-deps` (or apt-get install espeak-ng)")
    return found


def resample(pcm: npt.NDArray[np.int16], from_rate: int, to_rate: int) -> npt.NDArray[np.int16]:
    """Mono int16 from one rate to another with the SoX resampler livekit-rtc ships."""
    if from_rate == to_rate or pcm.size == 0:
        return pcm
    frame = rtc.AudioFrame(pcm.tobytes(), from_rate, 1, pcm.size)
    resampler = rtc.AudioResampler(from_rate, to_rate, num_channels=1, quality=rtc.AudioResamplerQuality.HIGH)
    frames = resampler.push(frame) + resampler.flush()
    if not frames:
        return np.zeros(0, dtype=np.int16)
    return np.frombuffer(rtc.combine_audio_frames(frames).data, dtype=np.int16).copy()


def espeak_pcm(
    text: str, *, sample_rate: int = 16_000, rate: int = ESPEAK_WPM, voice: str = ESPEAK_VOICE
) -> npt.NDArray[np.int16]:
    """Mono int16 samples of espeak-ng saying `text` (rate in words per minute)."""
    with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
        out = Path(tmp) / "speech.wav"
        # Text on stdin, never argv: a candidate line starting with "-" must not be read as a flag.
        try:
            subprocess.run(
                [_espeak_binary(), "-v", voice, "-s", str(rate), "-w", str(out), "--stdin"],
                input=text.encode(),
                capture_output=True,
                timeout=60,
                check=True,
            )
        except subprocess.CalledProcessError as error:
            raise SpeechSimError(f"espeak-ng failed: {error.stderr.decode(errors='replace')}") from error
        pcm, native_rate = read_wav(out)
    return resample(pcm, native_rate, sample_rate)


# int16 RMS above which a short window counts as speech: far below espeak-ng's and Piper's voiced sounds,
# far above the near-zero of a decoded silent Opus frame.
SPEECH_RMS = 300.0
SPEECH_WINDOW_S = 0.005
JOIN_MARGIN_S = 0.02


def speech_span(
    pcm: npt.NDArray[np.int16], sample_rate: int, *, threshold: float = SPEECH_RMS
) -> tuple[int, int] | None:
    """First and last sample (inclusive) of the 5 ms windows loud enough to be speech; None if there are none.

    The same RMS threshold decides, on the candidate's side, when the agent's voice is heard, so "speech"
    means the same thing at both ends of a measured reply. A fade below the threshold is cut: the span can
    end up to one window before the last faintly audible sample.
    """
    window = max(1, int(sample_rate * SPEECH_WINDOW_S))
    count = len(pcm) // window
    if count == 0:
        return None
    blocks = pcm[: count * window].astype(np.float64).reshape(count, window)
    loud = np.flatnonzero(np.sqrt(np.mean(blocks**2, axis=1)) >= threshold)
    if loud.size == 0:
        return None
    return int(loud[0]) * window, (int(loud[-1]) + 1) * window - 1


@dataclass(frozen=True)
class JoinedSpeech:
    """Parts of one utterance joined with exact silences; `spans` are each part's speech (sample indices)."""

    pcm: npt.NDArray[np.int16]
    spans: tuple[tuple[int, int], ...]


def join_speech(
    parts: Sequence[npt.NDArray[np.int16]], pauses: Sequence[float], sample_rate: int
) -> JoinedSpeech:
    """The parts with `pauses[i]` seconds from the end of part i's speech to the start of part i+1's.

    Each part is cut to its speech span plus a short margin (a soft consonant below the threshold stays), and
    the silence between is chosen so the pause is exact: espeak-ng's own leading and trailing silence would
    otherwise lengthen every pause by a varying amount. The first part starts and the last ends at its speech.
    """
    if len(pauses) != len(parts) - 1:
        raise SpeechSimError(f"{len(parts)} parts need {len(parts) - 1} pauses, got {len(pauses)}")
    margin = int(sample_rate * JOIN_MARGIN_S)
    cuts: list[tuple[int, int, int, int]] = []  # (cut start, speech start, speech end, cut end)
    for index, part in enumerate(parts):
        span = speech_span(part, sample_rate)
        if span is None:
            raise SpeechSimError(f"part {index} has no audible speech")
        start = max(0, span[0] - margin) if index > 0 else span[0]
        end = min(len(part) - 1, span[1] + margin) if index < len(pauses) else span[1]
        cuts.append((start, span[0], span[1], end))
    chunks: list[npt.NDArray[np.int16]] = []
    spans: list[tuple[int, int]] = []
    offset = 0
    for index, (part, (start, first, last, end)) in enumerate(zip(parts, cuts, strict=True)):
        spans.append((offset + first - start, offset + last - start))
        chunks.append(part[start : end + 1])
        offset += end + 1 - start
        if index < len(pauses):
            next_start, next_first = cuts[index + 1][0], cuts[index + 1][1]
            gap = round(pauses[index] * sample_rate) - (end - last) - (next_first - next_start)
            if gap < 0:
                raise SpeechSimError(f"pause {index} is shorter than the join margins")
            chunks.append(np.zeros(gap, dtype=np.int16))
            offset += gap
    return JoinedSpeech(pcm=np.concatenate(chunks), spans=tuple(spans))


def wav_bytes(pcm: npt.NDArray[np.int16], sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.astype(np.int16).tobytes())
    return buffer.getvalue()


def read_wav(source: Path | bytes) -> tuple[npt.NDArray[np.int16], int]:
    """Mono int16 samples and the rate of a 16-bit PCM WAV (multi-channel is averaged down)."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
    with handle, wave.open(handle, "rb") as wav:
        if wav.getsampwidth() != 2:
            raise SpeechSimError(f"expected 16-bit PCM, got {8 * wav.getsampwidth()}-bit")
        channels = wav.getnchannels()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        rate = wav.getframerate()
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return pcm, rate


def espeak_wav(
    text: str,
    path: Path | None = None,
    *,
    sample_rate: int = 16_000,
    rate: int = ESPEAK_WPM,
    voice: str = ESPEAK_VOICE,
) -> bytes:
    """A mono 16-bit WAV (16 or 48 kHz, or any rate) of espeak-ng saying `text`; also written to `path`."""
    data = wav_bytes(espeak_pcm(text, sample_rate=sample_rate, rate=rate, voice=voice), sample_rate)
    if path is not None:
        path.write_bytes(data)
    return data


# --- word error rate -------------------------------------------------------------------------------------

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand"), (100, "hundred"))


def number_words(n: int) -> str:
    """0 <= n < 10**12 in words, without "and": 2019 -> "two thousand nineteen"."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    for value, name in _SCALES:
        if n >= value:
            high, rest = divmod(n, value)
            return number_words(high) + " " + name + ("" if rest == 0 else " " + number_words(rest))
    raise AssertionError("unreachable")


def _spell_number(match: re.Match[str]) -> str:
    whole, _, fraction = match.group(0).replace(",", "").partition(".")
    words = number_words(int(whole))
    if fraction:
        words += " point " + " ".join(_ONES[int(d)] for d in fraction)
    return f" {words} "


def normalize_words(text: str) -> list[str]:
    """Lower case, numbers and % spelled out, apostrophes dropped ("I'm" == "im"), other punctuation gone."""
    text = text.lower().replace("%", " percent ").replace("&", " and ")
    text = re.sub(r"\d[\d,]*(?:\.\d+)?", _spell_number, text)
    text = re.sub(r"['\u2019]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return text.split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, after `normalize_words` on both."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))  # one row of the Levenshtein table over words
    for i, ref_word in enumerate(ref, start=1):
        current = [i]
        for j, hyp_word in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1] / len(ref)
