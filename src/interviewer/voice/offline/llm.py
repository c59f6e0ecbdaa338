"""A deterministic interviewer behind livekit-agents' `llm.LLM` interface.

It reads the conversation like a real model would (only the chat context: its own tool results, the
candidate's words) and answers with speech and tool calls. The Director decides what to ask; this class
only gives it a voice. It greets, asks, follows up, closes politely and, on purpose, calls a tool once during
the greeting, as an eager realtime model does, so the Greeting Guard is exercised on every run.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import llm, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr

from interviewer.interview.analysis import AnswerAnalysis, analyse_answer
from interviewer.interview.scoring import rubric_score

REFUSAL_MARKER = "not started yet"


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


def _pick(options: tuple[str, ...], key: str) -> str:
    return options[zlib.crc32(key.encode()) % len(options)]


_ACK_COMPLETE = ("That's a clear example, thank you.", "Thank you, that's very concrete.", "Great, thanks.")
_ACK_PARTIAL = ("Thank you.", "Thanks for that.", "Okay, thank you.")
_ACK_FOLLOW = ("I see.", "Okay.", "Got it.")


@dataclass(frozen=True)
class InterviewerVoice:
    """What the offline interviewer says; pure functions of the conversation so far."""

    role_title: str
    duration_minutes: int
    name: str = "Alex"
    early_tool_call: bool = True

    def greeting(self) -> str:
        return (
            f"Hello, and thank you for joining. I'm {self.name}, and I'll be interviewing you today for the "
            f"{self.role_title} role. We have about {self.duration_minutes} minutes. I'll ask about your "
            "experience, and you'll have time for your own questions at the end. Are you ready to begin?"
        )

    def decide(self, items: list[llm.ChatItem], tool_choice: object = None) -> Reply:
        history = [i for i in items if i.type in ("message", "function_call", "function_call_output")]
        history = [i for i in history if not (i.type == "message" and i.role in ("system", "developer"))]
        if not history:
            first_call = (
                (ToolCall("next_question"),) if self.early_tool_call and tool_choice != "none" else ()
            )
            return Reply(self.greeting(), first_call)
        last = history[-1]
        if last.type == "function_call_output":
            return self._after_tool(last, history)
        if last.type == "message" and last.role == "user":
            return self._after_candidate(last.text_content or "", history)
        return Reply()

    def _after_tool(self, output: llm.FunctionCallOutput, history: Sequence[llm.ChatItem]) -> Reply:
        if output.is_error:
            if REFUSAL_MARKER in output.output or output.name == "end_interview":
                return Reply()  # the guard said wait: say nothing, listen
            if output.name == "record_answer":
                return Reply(tool_calls=(ToolCall("next_question"),))
            return Reply()
        if output.name == "record_answer":
            return Reply(tool_calls=(ToolCall("next_question"),))
        if output.name != "next_question":
            return Reply()
        step = json.loads(output.output)
        previous = _last_candidate_text(history)
        kind = step["kind"]
        if kind in ("close", "end"):
            return Reply(
                self._goodbye(previous, step),
                (ToolCall("end_interview", {"reason": step.get("reason") or "complete"}),),
            )
        text = step.get("text", "")
        key = step.get("question_id", "")
        if kind == "follow_up":
            return Reply(f"{_pick(_ACK_FOLLOW, key)} {text}")
        if kind == "candidate_questions":
            return Reply(f"{self._ack(previous, key)} We're nearly at the end. {text}")
        if step.get("phase") == "warmup":
            return Reply(f"Great, let's start. {text}")
        if step.get("new_competency"):
            topic = step.get("competency", "your experience").lower()
            return Reply(f"{self._ack(previous, key)} Let's talk about {topic}. {text}")
        return Reply(f"{self._ack(previous, key)} Here is another one. {text}")

    def _after_candidate(self, said: str, history: Sequence[llm.ChatItem]) -> Reply:
        step = _last_step(history)
        if step is None:
            return Reply(tool_calls=(ToolCall("next_question"),))
        if step["kind"] in ("close", "end"):
            return Reply(
                tool_calls=(ToolCall("end_interview", {"reason": step.get("reason") or "complete"}),)
            )
        analysis = analyse_answer(said)
        score, _notes = rubric_score(analysis)
        return Reply(
            tool_calls=(
                ToolCall(
                    "record_answer",
                    {"question_id": step["question_id"], "summary": _summary(said), "score": score},
                ),
            )
        )

    def _ack(self, previous: str, key: str) -> str:
        if not previous:
            return "Thank you."
        analysis: AnswerAnalysis = analyse_answer(previous)
        return _pick(_ACK_COMPLETE if analysis.is_complete else _ACK_PARTIAL, key)

    def _goodbye(self, previous: str, step: dict[str, Any]) -> str:
        answer = ""
        if step.get("phase") in ("closing", "ended") and _asks_something(previous):
            answer = "That's a good question; the hiring team will follow up with the details. "
        return (
            f"{answer}Thank you very much for your time today. That's the end of our interview, and your "
            "scorecard will be ready in a moment. Goodbye!"
        )


def _asks_something(said: str) -> bool:
    if not said or analyse_answer(said).declines_questions:
        return False
    return "?" in said or said.lower().startswith(("what", "how", "when", "who", "can", "is", "do"))


def _end_call(step: dict[str, Any]) -> ToolCall:
    return ToolCall("end_interview", {"reason": step.get("reason") or "complete"})


def _summary(text: str, words: int = 25) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def _last_candidate_text(history: Sequence[llm.ChatItem]) -> str:
    for item in reversed(history):
        if item.type == "message" and item.role == "user":
            return item.text_content or ""
    return ""


def _last_step(history: Sequence[llm.ChatItem]) -> dict[str, Any] | None:
    for item in reversed(history):
        if item.type == "function_call_output" and item.name == "next_question" and not item.is_error:
            step: dict[str, Any] = json.loads(item.output)
            return step
    return None


class OfflineInterviewerLLM(llm.LLM[None]):
    def __init__(self, voice: InterviewerVoice) -> None:
        super().__init__()
        self.voice = voice

    @property
    def model(self) -> str:
        return "offline-interviewer"

    @property
    def provider(self) -> str:
        return "interviewer"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        reply = self.voice.decide(list(chat_ctx.items), tool_choice if tool_choice is not NOT_GIVEN else None)
        return _ReplyStream(self, reply, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _ReplyStream(llm.LLMStream):
    def __init__(
        self,
        offline: OfflineInterviewerLLM,
        reply: Reply,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        conn_options: APIConnectOptions,
    ) -> None:
        super().__init__(offline, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)
        self._reply = reply

    async def _run(self) -> None:
        request_id = utils.shortuuid("offline_")
        # Sentence by sentence, so TTS can start on the first one while the rest streams.
        for sentence in _sentences(self._reply.text):
            self._event_ch.send_nowait(
                llm.ChatChunk(id=request_id, delta=llm.ChoiceDelta(role="assistant", content=sentence))
            )
        if self._reply.tool_calls:
            calls = [
                llm.FunctionToolCall(
                    name=call.name, arguments=json.dumps(call.arguments), call_id=utils.shortuuid("call_")
                )
                for call in self._reply.tool_calls
            ]
            self._event_ch.send_nowait(
                llm.ChatChunk(id=request_id, delta=llm.ChoiceDelta(role="assistant", tool_calls=calls))
            )


def _sentences(text: str) -> list[str]:
    out, start = [], 0
    for index, char in enumerate(text):
        if char in ".?!" and (index + 1 == len(text) or text[index + 1] == " "):
            out.append(text[start : index + 1] + (" " if index + 1 < len(text) else ""))
            start = index + 2
    if start < len(text):
        out.append(text[start:])
    return [s for s in out if s.strip()]
