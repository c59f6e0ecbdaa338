"""Deterministic answer analysis: what a hiring manager listens for in a behavioural answer.

The cues are deliberately simple word lists: they are explainable to a candidate ("you never said what the
outcome was") and stable across runs, which matters more here than squeezing out accuracy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_WORD = re.compile(r"[A-Za-z']+|\d+(?:[.,]\d+)*%?")

_SITUATION = re.compile(
    r"\b(when i was|at my (last|previous|current)|we had|there was|the (company|team|project|customer)|"
    r"back in|last year|in \d{4}|situation|context|background)\b",
    re.I,
)
_TASK = re.compile(
    r"\b(my (job|role|task|goal|responsibility)|i was (asked|responsible|tasked)|we needed to|i needed to|"
    r"the goal|had to|objective|challenge)\b",
    re.I,
)
_ACTION = re.compile(
    r"\b(i (built|designed|wrote|led|decided|proposed|set up|created|added|changed|talked|met|ran|"
    r"implemented|introduced|organised|organized|started|moved|rewrote|measured|found|fixed|called|"
    r"convinced|analysed|analyzed|shipped|migrated|automated|negotiated|scheduled|trained|hired)|"
    r"so i|then i|what i did)\b",
    re.I,
)
_RESULT = re.compile(
    r"\b(as a result|result(ed)?|outcome|in the end|eventually|ended up|which (cut|reduced|increased|"
    r"improved|saved)|reduced|increased|improved|saved|cut|grew|dropped|doubled|halved|launched|renewed|"
    r"learned|we shipped|it worked|succeeded|achieved)\b",
    re.I,
)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|hundred|"
    r"thousand|million|billion|percent|half|double|twice|triple)\b",
    re.I,
)
_HEDGE = re.compile(
    r"\b(maybe|perhaps|probably|i think|i guess|i suppose|kind of|sort of|not sure|i don't know|"
    r"i'm not sure|somewhat|possibly|might have|i believe)\b",
    re.I,
)
_I = re.compile(r"\b(i|i'm|i've|i'd|me|my|myself)\b", re.I)
_WE = re.compile(r"\b(we|we're|we've|we'd|us|our|ourselves)\b", re.I)
_STOP = re.compile(
    r"\b((can|could) we (stop|end|finish)|i (want|would like|'d like|need) to (stop|end|finish|leave)|"
    r"(stop|end|finish) (the|this) interview|let(?:'s| us) (stop|end|finish)|"
    # "I have to go now", "I've got to run", "I must leave": not "I had to go through the logs".
    r"(i|i've|i'll) (have|need|got|must|gotta) (to )?(leave|go|run|drop off|hop off)"
    r"(?! (to|through|over|back|with|into|for|and|on|about|ahead|deeper))|"
    r"(something|an emergency) (came|has come|just came) up|hang up now|end the call|"
    # A goodbye that closes the utterance, however it is phrased ("Thanks again, goodbye!").
    r"(good ?bye|bye(-bye)?|see you|take care)\W*$)",
    re.I,
)
_NO_QUESTIONS = re.compile(
    r"\b(no(,)? (questions|i don't)|nothing (else|from me)|i'm good|that's all)\b", re.I
)

SHORT_ANSWER_WORDS = 25


class Ownership(StrEnum):
    individual = "individual"  # mostly "I"
    shared = "shared"  # both "I" and "we"
    team_only = "team_only"  # "we" and never "I"
    unclear = "unclear"  # neither


@dataclass(frozen=True)
class AnswerAnalysis:
    word_count: int
    situation: bool
    task: bool
    action: bool
    result: bool
    has_numbers: bool
    i_count: int
    we_count: int
    hedges: int
    wants_to_stop: bool
    declines_questions: bool

    @property
    def ownership(self) -> Ownership:
        if self.i_count == 0 and self.we_count == 0:
            return Ownership.unclear
        if self.i_count == 0:
            return Ownership.team_only
        return Ownership.individual if self.we_count <= self.i_count else Ownership.shared

    @property
    def is_short(self) -> bool:
        return self.word_count < SHORT_ANSWER_WORDS

    @property
    def is_vague(self) -> bool:
        """Too little to assess: short, or no concrete action and no outcome."""
        return self.is_short or not (self.action or self.result)

    @property
    def is_complete(self) -> bool:
        """A full answer: concrete, with an outcome, with numbers, and the candidate's own part."""
        return (
            not self.is_short
            and self.result
            and self.has_numbers
            and self.ownership is not Ownership.team_only
        )

    @property
    def star_cues(self) -> int:
        return sum((self.situation, self.task, self.action, self.result))

    @property
    def hedge_rate(self) -> float:
        return 100.0 * self.hedges / max(self.word_count, 1)


def analyse_answer(text: str) -> AnswerAnalysis:
    return AnswerAnalysis(
        word_count=len(_WORD.findall(text)),
        situation=bool(_SITUATION.search(text)),
        task=bool(_TASK.search(text)),
        action=bool(_ACTION.search(text)),
        result=bool(_RESULT.search(text)),
        has_numbers=bool(_NUMBER.search(text)),
        i_count=len(_I.findall(text)),
        we_count=len(_WE.findall(text)),
        hedges=len(_HEDGE.findall(text)),
        wants_to_stop=bool(_STOP.search(text)),
        declines_questions=bool(_NO_QUESTIONS.search(text)),
    )


class FollowUpKind(StrEnum):
    example = "example"  # too short or abstract: ask for one concrete story
    ownership = "ownership"  # only "we": what did *you* do
    result = "result"  # no outcome
    metrics = "metrics"  # outcome without numbers
    probe = "probe"  # the competency's own probe


FOLLOW_UP_TEXT: dict[FollowUpKind, str] = {
    FollowUpKind.example: "Could you walk me through one specific example, step by step?",
    FollowUpKind.ownership: "You said 'we' a lot. What did you personally do?",
    FollowUpKind.result: "What was the outcome in the end?",
    FollowUpKind.metrics: "How did you measure that? Do you have numbers?",
}


def follow_up_kind(analysis: AnswerAnalysis, already: frozenset[FollowUpKind]) -> FollowUpKind | None:
    """The most useful follow-up for this answer, or None when the answer needs none.

    Order matters: a vague answer first needs a real example before asking for its metrics makes sense.
    A kind already asked about for this question is never asked again.
    """
    if analysis.is_complete:
        return None
    wanted: list[FollowUpKind] = []
    if analysis.is_vague:
        wanted.append(FollowUpKind.example)
    if analysis.ownership is Ownership.team_only:
        wanted.append(FollowUpKind.ownership)
    if not analysis.result:
        wanted.append(FollowUpKind.result)
    if not analysis.has_numbers:
        wanted.append(FollowUpKind.metrics)
    for kind in wanted:
        if kind not in already:
            return kind
    return None
