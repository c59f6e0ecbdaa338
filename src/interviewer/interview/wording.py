"""Everything the interviewer says, in one place: greeting, questions' lead-ins, acknowledgements, answers to
the candidate's questions, prompts, closing lines, the guard's refusal and the instructions a model is given.

The Director decides *what* happens; this module decides *how it is said*. Pure functions and constants, so a
wording change is one diff here and the offline voice, the Gemini instructions and the worker's closing
lines stay in step.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from interviewer.interview.analysis import AnswerAnalysis, FollowUpKind
from interviewer.interview.intents import Intent, QuestionTopic
from interviewer.interview.steps import Phase, Preface

if TYPE_CHECKING:
    from interviewer.interview.recap import Recap

INTERVIEWER_NAME = "Alex"

# -- fixed lines ----------------------------------------------------------------------------------------

# Spoken by the worker when it has to end an interview itself (time limit backstop, hang-up, drain).
STOP_LINE = "We have to stop here. Thank you for your time; your scorecard will be ready shortly."
DRAIN_LINE = "I'm sorry, we have to stop here. Everything you said is saved."
# A job that takes over an interview whose job died says this first, then the question being answered.
RESUME_LINE = "I'm sorry, we lost the connection for a moment. Everything you said is saved."
RESUME_QUESTION_LEAD = "You were telling me about this:"

GUARD_REFUSAL = (
    "Refused: the interview has not started yet. Finish the greeting and wait for the candidate to "
    "speak; do not call any tool until then."
)

CANDIDATE_QUESTIONS_PROMPT = "Do you have any questions for me about the role or the team?"
MORE_QUESTIONS_PROMPT = "Is there anything else you'd like to ask?"

FOLLOW_UP_TEXT: dict[FollowUpKind, str] = {
    FollowUpKind.example: "Could you walk me through one specific example, step by step?",
    FollowUpKind.ownership: "You said 'we' a lot. What did you personally do?",
    FollowUpKind.result: "What was the outcome in the end?",
    FollowUpKind.metrics: "How did you measure that? Do you have numbers?",
}

# -- acknowledgements (spoken at once when the candidate finishes, while the tools run) -----------------

_ACK_COMPLETE = ("That's a clear example, thank you.", "Thank you, that's very concrete.", "Great, thanks.")
_ACK_PARTIAL = ("Thank you.", "Thanks for that.", "Okay, thank you.")
_ACK_INTENT: dict[Intent, tuple[str, ...]] = {
    Intent.repeat: ("Of course.", "Sure."),
    Intent.clarify: ("Good point, let me explain.", "Sure, let me explain."),
    Intent.dont_know: ("That's alright.", "No problem at all."),
    Intent.question: ("Good question.", "Sure."),
    Intent.stop: ("Of course, I understand.",),
    Intent.off_topic: ("Ha, fair enough.", "I see."),
    Intent.no_questions: ("Alright.",),
}


def pick(options: Sequence[str], key: str) -> str:
    """A stable choice among variants: the same conversation always gets the same words."""
    return options[zlib.crc32(key.encode()) % len(options)]


def acknowledgement(intent: Intent, analysis: AnswerAnalysis, key: str) -> str:
    if intent is Intent.answer:
        return pick(_ACK_COMPLETE if analysis.is_complete else _ACK_PARTIAL, key)
    return pick(_ACK_INTENT[intent], key)


# -- greeting and lead-ins ---------------------------------------------------------------------------------


GREETING_OPENING = "Hello, and thank you for joining."
GREETING_HOW_IT_GOES = (
    "I'll ask about your experience; if you'd like a question repeated or explained, just say so, and you'll "
    "have time for your own questions at the end."
)
GREETING_QUESTION = "Are you ready to begin?"


def greeting(role_title: str, duration_minutes: int, name: str = INTERVIEWER_NAME) -> str:
    return (
        f"{GREETING_OPENING} I'm {name}, and I'll be interviewing you today for the {role_title} role. "
        f"We have about {duration_minutes} minutes. {GREETING_HOW_IT_GOES} {GREETING_QUESTION}"
    )


def stock_sentences() -> tuple[str, ...]:
    """Sentences spoken word for word in every interview, worth synthesising once per worker: the greeting's
    opening is what a burst of candidates waits on, all at the same second."""
    return (GREETING_OPENING, GREETING_HOW_IT_GOES, GREETING_QUESTION)


def warmup_line(text: str) -> str:
    return f"Great, let's begin. {text}"


def topic_phrase(name: str) -> str:
    """A competency's name inside a sentence: lower case, except acronyms ("SLOs", "UX")."""
    return " ".join(w if sum(c.isupper() for c in w) > 1 else w.lower() for w in name.split())


def new_competency_line(competency_name: str, text: str) -> str:
    return f"Let's talk about {topic_phrase(competency_name)}. {text}"


def another_question_line(text: str) -> str:
    return f"Here is another one. {text}"


def follow_up_line(text: str) -> str:
    return text


def repeat_line(text: str) -> str:
    return f"The question was: {text}"


def clarification(question: str, competency_name: str | None) -> str:
    """A plainer version of the question: what a good answer contains, without giving the answer away."""
    about = f" about {topic_phrase(competency_name)}" if competency_name else ""
    return (
        f"I'm looking for one real situation{about}, from any job or project: what was going on, what you "
        f"did yourself, and how it turned out. In other words: {question}"
    )


def easier_variant(competency_name: str) -> str:
    return (
        f"Let me make it easier. Think of any time, even a small one, when {topic_phrase(competency_name)} "
        "mattered in your work. What happened, and what did you do?"
    )


PREFACE_LINES: dict[Preface, str] = {
    Preface.no_example: "Not every question has a story behind it.",
    Preface.interrupted: "In the interest of time, I'll stop us there.",
    Preface.silence: "Let's move on to something else.",
    Preface.detours: "Let's move on; you can come back to it at the end if you like.",
}


def steer_back_line() -> str:
    return "Let's come back to the interview, though. Take your time with the question I asked."


def nudge_line() -> str:
    return "Take your time. Would you like me to repeat the question, or put it another way?"


def interruption_line() -> str:
    return (
        "Sorry to cut in: that's helpful, and in the interest of time I'd like to move us on. "
        "Please finish your sentence."
    )


def candidate_questions_line(text: str, taken_up: Sequence[str], first: bool) -> str:
    lead = "We're nearly at the end." if first else ""
    earlier = " ".join(f"Earlier you asked: '{q}' {_DEFERRED_ANSWER}" for q in taken_up)
    return " ".join(part for part in (lead, earlier, text) if part)


# -- answers to the candidate's questions --------------------------------------------------------------

_DEFERRED_ANSWER = "I don't have that detail here, so I've noted it in your report for the hiring team."


def answer_to_question(
    topic: QuestionTopic,
    *,
    role_title: str,
    role_summary: str,
    duration_minutes: int,
    competency_names: Sequence[str],
    minutes_left: int,
    deferred: bool,
) -> str:
    """A short, honest answer from what the interview plan knows; never an invented fact about the team."""
    if topic is QuestionTopic.role:
        return f"This interview is for the {role_title} role. {role_summary}"
    if topic is QuestionTopic.interview_format:
        topics = ", ".join(topic_phrase(name) for name in competency_names)
        return (
            f"It's a {duration_minutes}-minute conversation: a question or two on each of {topics}, "
            "then time for your questions."
        )
    if topic is QuestionTopic.time_left:
        return f"We have about {max(minutes_left, 1)} minutes left."
    if topic is QuestionTopic.next_steps:
        return (
            "Right after we finish you get a scorecard with evidence from your own answers; the hiring "
            "team sees the same report."
        )
    if deferred:
        return "Let's keep that one for the end, and I'll come back to it then."
    return _DEFERRED_ANSWER


def back_to_question_line() -> str:
    return "Now, back to my question."


def lost_reply_line() -> str:
    """Said in the interviewer's place when the voice model stays silent after the candidate spoke."""
    return "I'm sorry, I lost you for a moment there. Could you say the last part again?"


# -- closing ---------------------------------------------------------------------------------------------


def goodbye(*, on_request: bool, noted_questions: Sequence[str] = ()) -> str:
    noted = ""
    if noted_questions:
        which = "question" if len(noted_questions) == 1 else "questions"
        noted = f"I've noted your {which} for the hiring team, and they will follow up. "
    if on_request:
        return (
            f"{noted}Thank you for your time today. Everything you said is saved, and your "
            "scorecard will be ready in a moment. Goodbye!"
        )
    return (
        f"{noted}Thank you very much for your time today. That's the end of our interview, and your "
        "scorecard will be ready in a moment. Goodbye!"
    )


# -- what a model is told --------------------------------------------------------------------------------

STEP_INSTRUCTIONS = {
    "ask": "Ask this in your own words, then listen.",
    "follow_up": "Ask this follow-up in your own words, then listen.",
    "easier": "Reassure the candidate briefly, then ask this easier version and listen.",
    "repeat": "Repeat the question as it was asked, then listen.",
    "clarify": "Explain the question with the wording given, then listen.",
    "answer_question": "Answer the candidate's question with exactly what `say` contains (never invent "
    "facts about the team, pay or company), then invite them to go on and listen.",
    "steer_back": "Acknowledge briefly and bring the candidate back to the question, then listen.",
    "nudge": "Gently check in with the silent candidate, then listen.",
    "move_on": "Call next_question now.",
    "interrupt": "Politely interrupt the candidate with the line given.",
    "candidate_questions": "Invite the candidate's questions, then listen.",
    "close": "Thank the candidate, say goodbye, then call end_interview.",
    "end": "Call end_interview now.",
}


def interviewer_instructions(role_title: str, duration_minutes: int, competency_names: Sequence[str]) -> str:
    competencies = ", ".join(competency_names)
    return (
        f"You are an experienced hiring manager interviewing a candidate for the role of {role_title}, out "
        f"loud, in a {duration_minutes}-minute interview covering: {competencies}.\n"
        "Start with a short, warm greeting: introduce yourself, say how long the interview takes, that they "
        "can ask for a question to be repeated or explained, and that they can ask questions at the end. Do "
        "not call any tool during the greeting.\n"
        "After the candidate replies, call next_question and say what it returns: its `say` field is the "
        "line to speak (you may put it in your own natural words, but keep its meaning and never add "
        "facts). Whenever the candidate has said something, first give a very short acknowledgement "
        "('Thank you.', 'I see.') and call record_answer with the question_id you were given, a short "
        "summary and a 1-5 score against the role's bar, then call next_question again. Always record what "
        "the candidate said, even when it is not an answer, because the plan reads what they meant:\n"
        "- they ask you to repeat or rephrase the question, or ask what it means: the plan gives the "
        "question again or explains it;\n"
        "- they don't know or want to skip: acknowledge kindly and move on (the plan may offer an easier "
        "version once; never press them with a follow-up);\n"
        "- they ask you something: answer only from what `say` contains; if it says the question is kept "
        "for the end, say so, and it will come back at the end;\n"
        "- they say goodbye or have to leave, in any words: the plan closes; thank them, say goodbye and "
        "call end_interview;\n"
        "- they go off topic: bring them back to the question kindly;\n"
        "- the plan may ask you to check in after a silence or to interrupt an answer that runs long: do "
        "it politely and briefly.\n"
        "Never invent questions of your own and never repeat one unless the candidate asks. Keep your own "
        "turns short: one or two sentences, then the question. When next_question says to close, thank the "
        "candidate, say goodbye and call end_interview. If a tool is refused, wait for the candidate and "
        "try again later."
    )


_PHASE_WORDS = {
    Phase.greeting: "the greeting is done; the candidate has not been asked anything yet",
    Phase.warmup: "the warm-up",
    Phase.core: "the main questions",
    Phase.candidate_questions: "the candidate's own questions, at the end",
    Phase.closing: "saying goodbye",
    Phase.ended: "the interview has ended",
}


def recap_instructions(recap: Recap) -> str:
    """Appended to the instructions of a fresh session that replaces one the server would not resume, so
    the model carries on mid-interview instead of starting over."""
    lines = [
        "IMPORTANT: this interview is already under way. Your connection was renewed and you lost your "
        "memory of it, so here is where it stands. Do not greet the candidate again, do not start over "
        "and never ask a question listed below again.",
        f"Time: about {recap.minutes_elapsed} of {recap.duration_minutes} minutes have passed, about "
        f"{recap.minutes_left} are left. Stage: {_PHASE_WORDS[recap.phase]}.",
    ]
    if recap.exchanges:
        lines.append("Asked so far (question_id: what you asked / what the candidate said, in short):")
        lines += [f"- {e.question_id}: {e.asked} / {e.answer or '(no answer yet)'}" for e in recap.exchanges]
    if recap.covered:
        lines.append(f"Topics covered: {', '.join(recap.covered)}.")
    if recap.open_question_id is not None:
        lines.append(
            f"Open now: question_id {recap.open_question_id!r} ({recap.open_question or ''}). When the "
            "candidate speaks, call record_answer with this question_id, then next_question."
        )
    else:
        lines.append("Nothing is open: when the candidate speaks, call next_question.")
    if recap.upcoming and recap.phase in (Phase.greeting, Phase.warmup, Phase.core):
        lines.append(
            f"Still to come: {', '.join(recap.upcoming)}, then the candidate's questions and goodbye; "
            "next_question decides the order."
        )
    return "\n".join(lines)
