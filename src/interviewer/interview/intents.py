"""What the candidate means: an answer, repeat, clarify, "I don't know", a question, stop, off-topic.

Deterministic word lists, like the answer analysis: a hiring manager's reading of a turn must be the same on
every run and explainable afterwards. Order matters: "sorry, I have to leave" is a stop even though it is
short, and "I don't know, could you repeat that?" asks for the question again before giving up on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from interviewer.interview.analysis import AnswerAnalysis, analyse_answer


class Intent(StrEnum):
    answer = "answer"
    repeat = "repeat"  # say the question again
    clarify = "clarify"  # explain or rephrase the question
    dont_know = "dont_know"  # no answer to give: acknowledge and move on
    question = "question"  # the candidate asks the interviewer something
    stop = "stop"  # the candidate leaves, in any phrasing
    off_topic = "off_topic"  # small talk or something unrelated: steer back
    no_questions = "no_questions"  # "no, that's all" when invited to ask


class QuestionTopic(StrEnum):
    """What a candidate's question is about, as far as the interview plan can answer it."""

    role = "role"
    interview_format = "format"
    time_left = "time_left"
    next_steps = "next_steps"
    other = "other"  # the plan does not know: kept for the end and for the hiring team


# Detours can be short; only short turns are read as one, so a long answer that happens to contain
# "I don't know" or a question mark is still an answer.
DETOUR_MAX_WORDS = 25

_REPEAT = re.compile(
    r"\b(repeat|say (that|it|this) again|say again|come again|pardon|one more time|"
    r"(didn't|did not|couldn't|could not) (catch|hear|get) (that|it|the question|what you said)|"
    r"what was the question|sorry\W*\?$|what\W*\?$)",
    re.I,
)
_CLARIFY = re.compile(
    r"\b(what do you mean|what does that mean|do you mean|what exactly|clarify|rephrase|"
    r"put (it|that) (another|differently|in other words)|another way|in what sense|"
    r"(not sure|don't|do not) (i )?(understand|follow|get) (the|your|what you)|"
    r"(does|should|can|could|must) (it|the example|that) (have to )?be|"
    r"what (kind|sort|type) of (example|situation|answer)|more specific|an example of what)\b",
    re.I,
)
_DONT_KNOW = re.compile(
    r"\b(i (really )?(don't|do not|dunno) know|no idea|not sure what to say|i('m| am) not sure(?=\W*$)|"
    r"(can't|cannot|can not) (think of|remember|recall)|(don't|do not) have (an|any|a good) (example|answer)|"
    r"(never|haven't|have not) (done|had|been in) (that|this|anything like)|"
    r"^\W*(let's |can we |could we |i'd like to |i'll |i will )?(skip|pass)( (this|that|it|on (this|that)))?|"
    r"next question|nothing comes to mind|i('ll| will) have to pass)\b",
    re.I,
)
_ASK = re.compile(
    r"\?|\b((can|could|may|might) i ask|i('d| would) (like|love) to (ask|know)|quick question|"
    r"i('m| am) curious|i (was )?wonder(ing)?|tell me (more )?about (the|your|this))\b",
    re.I,
)
_OFF_TOPIC = re.compile(
    r"\b(weather|football|soccer|basketball|the game (last night|yesterday)|movie|film|tv show|netflix|"
    r"lunch|dinner|breakfast|weekend|holiday|vacation|politics|election|my (cat|dog)|your (cat|dog)|"
    r"favou?rite (food|colou?r|band|song|team)|horoscope|lottery)\b",
    re.I,
)
_NO_QUESTIONS = re.compile(
    r"^\W*(no|nope|nothing|not really|i'm good|i am good|that's all|that is all|all good|i think that's it)"
    r"\b|\b(no (more )?questions|nothing (else|from me|more))\b",
    re.I,
)
_TOPICS: tuple[tuple[QuestionTopic, re.Pattern[str]], ...] = (
    (
        QuestionTopic.time_left,
        re.compile(r"\b(time (left|remaining)|how (long|much time) (do we have|is left))\b", re.I),
    ),
    (
        QuestionTopic.next_steps,
        re.compile(
            r"\b(next steps?|hear back|feedback|scorecard|results?|report|what happens (after|next))\b", re.I
        ),
    ),
    (
        QuestionTopic.interview_format,
        re.compile(
            r"\b(how long|how many questions|format|structure|what will (we|you) (cover|ask)|"
            r"what (are|will) (the|you) (questions|topics)|competenc)",
            re.I,
        ),
    ),
    (QuestionTopic.role, re.compile(r"\b(the role|this role|the position|the job|responsibilit)", re.I)),
)


@dataclass(frozen=True)
class Heard:
    """One candidate turn as the Director reads it."""

    text: str
    intent: Intent
    analysis: AnswerAnalysis
    topic: QuestionTopic | None = None  # for Intent.question


def question_topic(text: str) -> QuestionTopic:
    for topic, pattern in _TOPICS:
        if pattern.search(text):
            return topic
    return QuestionTopic.other


def classify(text: str) -> Heard:
    """Read one candidate turn. Pure and deterministic."""
    analysis = analyse_answer(text)
    intent = _intent(text.strip(), analysis)
    topic = question_topic(text) if intent is Intent.question else None
    return Heard(text=text, intent=intent, analysis=analysis, topic=topic)


def _intent(text: str, analysis: AnswerAnalysis) -> Intent:
    if analysis.wants_to_stop:
        return Intent.stop
    if analysis.word_count > DETOUR_MAX_WORDS or not text:
        return Intent.answer
    if _REPEAT.search(text):
        return Intent.repeat
    if _CLARIFY.search(text):
        return Intent.clarify
    work_cues = analysis.action or analysis.result or analysis.situation or analysis.task
    if _DONT_KNOW.search(text) and not (analysis.action or analysis.result):
        return Intent.dont_know
    if _NO_QUESTIONS.search(text) and "?" not in text:
        return Intent.no_questions
    if _OFF_TOPIC.search(text) and not work_cues:
        return Intent.off_topic
    if _ASK.search(text):
        return Intent.question
    return Intent.answer
