"""End of turn from the words said so far: a pause after "we, um," or "because" is a pause for thought.

The audio end-of-turn models that run offline (LiveKit's turn-detector-v1-mini, Smart Turn v3.2) hardly tell
a finished answer from a mid-answer pause on the speech this project can test with; see the "Turn-taking"
section of the README and bench/turn_taking.py. The streaming STT already has the words of the pause
(it starts decoding at the first short pause), so the turn detector reads them: an answer that stops on a
filler, a conjunction, a preposition, an article, a comma, or a preamble such as "good question" or "let me
think" is not finished, and the session waits its long delay; anything else is, and it ends after the
short one. The lists are general English, not fitted to the benchmark's answers.

`TranscriptTurnDetector` implements livekit-agents' text turn-detector protocol (`predict_end_of_turn` on
the chat context, `unlikely_threshold`, `supports_language`), which the session calls with the candidate's
transcript when a final transcript arrives.
"""

from __future__ import annotations

import re

from livekit.agents import llm
from livekit.agents.language import LanguageCode

FINISHED, UNFINISHED = 1.0, 0.0
THRESHOLD = 0.5

# The policy bench/turn_taking.py chose: the turn ends after SHORT_SILENCE_S of silence (the VAD's end of
# speech, and the endpointing min_delay) when the words look finished, after LONG_SILENCE_S when not.
SHORT_SILENCE_S = 0.4
LONG_SILENCE_S = 1.6

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


class TranscriptTurnDetector:
    """livekit-agents' turn-detector protocol over `transcript_looks_finished` (English only)."""

    @property
    def model(self) -> str:
        return "transcript-rules"

    @property
    def provider(self) -> str:
        return "interviewer"

    async def unlikely_threshold(self, language: LanguageCode | None) -> float | None:
        return THRESHOLD

    async def supports_language(self, language: LanguageCode | None) -> bool:
        return language is None or str(language).lower().startswith("en")

    async def predict_end_of_turn(self, chat_ctx: llm.ChatContext, *, timeout: float | None = None) -> float:
        for item in reversed(chat_ctx.items):
            if item.type == "message" and item.role == "user":
                return FINISHED if transcript_looks_finished(item.text_content or "") else UNFINISHED
        return FINISHED
