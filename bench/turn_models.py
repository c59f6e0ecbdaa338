"""The end-of-turn models compared by bench/turn_taking.py, each fed what its own framework feeds it.

- LiveKit `turn-detector-v1-mini` (`livekit-local-inference`, installed with livekit-agents): livekit-agents
  asks it once per pause, when the VAD has heard 0.2 s of silence, with the last 1.2 s of 16 kHz audio.
- Smart Turn v3.2 (the ONNX file inside the `pipecat-ai` wheel, BSD-2): pipecat asks it when its VAD stops,
  with the turn's audio from 0.5 s before speech began, the last 8 s, as Whisper-style log-mel features.
  The wheel is installed without pipecat's framework (see pyproject.toml), so neither the package nor
  loguru is imported: the model and its numpy feature module are loaded by file path.
- The words: `transcript_looks_finished` reads what Whisper heard up to the pause. An answer that stops on
  a filler, a conjunction, a preposition, an article, a comma, or a preamble ("good question", "let me
  think") is not finished. The lists are general English, not fitted to the benchmark's answers.
"""

from __future__ import annotations

import importlib.util
import re
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Protocol

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from livekit.local_inference import EOT, EOT_MAX_SAMPLES

SAMPLE_RATE = 16_000
SMART_TURN_FILE = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
SMART_TURN_FEATURES = "pipecat/audio/turn/smart_turn/_whisper_features.py"
SMART_TURN_SECONDS = 8
SMART_TURN_PRE_SPEECH_S = 0.5


@dataclass(frozen=True)
class Prediction:
    probability: float  # P(the turn is over)
    seconds: float  # wall time of the call, added to the decision time


class EndOfTurnModel(Protocol):
    name: str

    def predict(self, pcm: npt.NDArray[np.int16], speech_start: int) -> Prediction:
        """P(end of turn) for the audio so far; `speech_start` is the sample where the turn's speech began."""


class LiveKitMini:
    name = "livekit-mini"

    def __init__(self) -> None:
        self._eot = EOT()

    def predict(self, pcm: npt.NDArray[np.int16], speech_start: int) -> Prediction:
        window = np.ascontiguousarray(pcm[-EOT_MAX_SAMPLES:], dtype=np.int16)
        started = time.perf_counter()
        probability = float(self._eot.predict(window))
        return Prediction(probability, time.perf_counter() - started)


def _wheel_file(relative: str) -> Path:
    path = metadata.distribution("pipecat-ai").locate_file(relative)
    resolved = Path(str(path))
    if not resolved.is_file():
        raise FileNotFoundError(f"{relative} not in the installed pipecat-ai wheel")
    return resolved


def _load_features() -> ModuleType:
    spec = importlib.util.spec_from_file_location("smart_turn_features", _wheel_file(SMART_TURN_FEATURES))
    if spec is None or spec.loader is None:
        raise ImportError("cannot load Smart Turn's feature module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class SmartTurnV32:
    name = "smart-turn-v3.2"

    def __init__(self, threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = threads  # pipecat's default: one core per analyzer
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(_wheel_file(SMART_TURN_FILE)), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._features = _load_features()

    def predict(self, pcm: npt.NDArray[np.int16], speech_start: int) -> Prediction:
        started = time.perf_counter()
        begin = max(0, speech_start - int(SMART_TURN_PRE_SPEECH_S * SAMPLE_RATE))
        audio = pcm[begin:].astype(np.float32) / 32768.0
        keep = SMART_TURN_SECONDS * SAMPLE_RATE
        audio = audio[-keep:] if audio.size > keep else np.pad(audio, (keep - audio.size, 0))
        log_mel = self._features.compute_whisper_log_mel_features(audio, do_normalize=True)
        outputs = self._session.run(None, {"input_features": np.expand_dims(log_mel, 0)})
        probability = float(np.asarray(outputs[0]).reshape(-1)[0])
        return Prediction(probability, time.perf_counter() - started)


# Words a sentence does not end on. Left out on purpose, though often dangling: object pronouns ("we
# fixed it"), demonstratives ("I did that"), "no", "okay" and auxiliaries ("yes, I did"), which end short
# complete answers.
_FILLERS = {"um", "umm", "uh", "uhm", "er", "erm", "hmm", "hm", "mm", "ah", "like"}
_CONJUNCTIONS = {
    "and", "but", "or", "nor", "so", "because", "since", "although", "though", "while", "whereas", "if",
    "unless", "until", "when", "whenever", "where", "which", "whose", "than", "then", "as", "plus", "yet",
}  # fmt: skip
_PREPOSITIONS = {
    "about", "above", "across", "after", "against", "along", "among", "around", "at", "before", "behind",
    "below", "between", "by", "during", "for", "from", "in", "into", "of", "off", "on", "onto", "over",
    "per", "through", "to", "toward", "towards", "under", "upon", "via", "with", "within", "without",
}  # fmt: skip
_DETERMINERS = {"a", "an", "the", "my", "our", "your", "their", "its", "every", "another", "such"}
_DANGLING = {"i", "we", "they", "he", "she", "is", "are", "was", "were", "very", "really"}
_OPEN_ENDINGS = _FILLERS | _CONJUNCTIONS | _PREPOSITIONS | _DETERMINERS | _DANGLING
# Phrases that announce an answer rather than give one.
_PREAMBLES = re.compile(
    r"(good|great|interesting|tough|hard) question|let me (think|see|remember)|give me (a|one) "
    r"(moment|second|sec|minute)|i('m| am) (trying to remember|thinking)|how (do|would|should|did) i|"
    r"what (do|would|did) i|(let me|i'll|i will) (start|begin)|there (are|were) (two|three|four|a few) "
    r"(things|reasons|parts|steps)|(it|that)'?s? (a )?(tricky|difficult|complicated)( one)?$"
)


def transcript_looks_finished(text: str) -> bool:
    """False if the words so far stop where a speaker is plainly not done."""
    stripped = text.strip()
    if not stripped:
        return False
    if stripped.endswith((",", "...", "…", "-", "—", ":", ";")):
        return False
    words = re.findall(r"[a-z']+", stripped.lower())
    if not words:
        return False
    # A question is complete even when it ends on a preposition ("who would I work with?").
    if not stripped.endswith("?") and words[-1].strip("'") in _OPEN_ENDINGS:
        return False
    last_sentence = re.split(r"[.!?]\s+", stripped.lower())[-1].strip(" .!?")
    return not _PREAMBLES.search(last_sentence)
