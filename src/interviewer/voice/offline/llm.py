"""A deterministic interviewer behind livekit-agents' `llm.LLM` interface.

It reads the conversation like a real model would (only the chat context: its own tool results, the
candidate's words) and answers with speech and tool calls. The Director decides what to do and the wording
module says how; this class only gives it a voice. When the candidate finishes, its first chunk carries a
short acknowledgement together with the record_answer call, so speech starts while the tools run; the next
line follows the tools. It also calls a tool once during the greeting on purpose, as an eager realtime
model does, so the Greeting Guard is exercised on every run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import llm, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from pydantic import ValidationError

from interviewer.agent.guard import RefusalReason, ToolRefusal
from interviewer.interview import wording
from interviewer.interview.intents import Intent, classify
from interviewer.interview.scoring import rubric_score
from interviewer.interview.steps import StepKind
from interviewer.interview.voice_step import VoiceStep


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class InterviewerVoice:
    """What the offline interviewer says; pure functions of the conversation so far."""

    role_title: str
    duration_minutes: int
    name: str = wording.INTERVIEWER_NAME
    early_tool_call: bool = True

    def greeting(self) -> str:
        return wording.greeting(self.role_title, self.duration_minutes, self.name)

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
            return self._after_tool(last)
        if last.type == "message" and last.role == "user":
            return self._after_candidate(last.text_content or "", history)
        if last.type == "message" and last.role == "assistant" and _last_step(history) is not None:
            # Asked to speak again with nothing new from the candidate (silence after a prompt): the plan
            # has moved on, so ask it what comes next.
            return Reply(tool_calls=(ToolCall("next_question"),))
        return Reply()

    def _after_tool(self, output: llm.FunctionCallOutput) -> Reply:
        if output.is_error:
            refusal = _refusal(output.output)
            if output.name == "end_interview" or (refusal and refusal.reason is RefusalReason.guard_closed):
                return Reply()  # the guard said wait: say nothing, listen
            if output.name == "record_answer":
                return Reply(tool_calls=(ToolCall("next_question"),))
            return Reply()
        if output.name == "record_answer":
            return Reply(tool_calls=(ToolCall("next_question"),))
        if output.name != "next_question":
            return Reply()
        step = VoiceStep.model_validate_json(output.output)
        if step.closes:
            return Reply(step.say, (_end_call(step),))
        if step.kind is StepKind.move_on:
            return Reply(tool_calls=(ToolCall("next_question"),))
        return Reply(step.say)

    def _after_candidate(self, said: str, history: Sequence[llm.ChatItem]) -> Reply:
        step = _last_step(history)
        if step is None or (step.question_id is None and not step.closes):
            return Reply(tool_calls=(ToolCall("next_question"),))
        if step.closes:
            return Reply(tool_calls=(_end_call(step),))
        heard = classify(said)
        score, _notes = rubric_score(heard.analysis)
        intent = heard.intent
        if step.kind is StepKind.candidate_questions or step.phase.value == "candidate_questions":
            intent = Intent.question if intent is Intent.answer else intent
        # Said at once, while record_answer and next_question run: the first words are never late.
        ack = wording.acknowledgement(intent, heard.analysis, f"{step.question_id}:{said}")
        record = ToolCall(
            "record_answer", {"question_id": step.question_id, "summary": _summary(said), "score": score}
        )
        return Reply(ack, (record,))


def _refusal(output: str) -> ToolRefusal | None:
    try:
        return ToolRefusal.model_validate_json(output)
    except ValidationError:
        return None


def _end_call(step: VoiceStep) -> ToolCall:
    return ToolCall("end_interview", {"reason": step.reason or "complete"})


def _summary(text: str, words: int = 25) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def _last_step(history: Sequence[llm.ChatItem]) -> VoiceStep | None:
    for item in reversed(history):
        if item.type == "function_call_output" and item.name == "next_question" and not item.is_error:
            return VoiceStep.model_validate_json(item.output)
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
        calls = [
            llm.FunctionToolCall(
                name=call.name, arguments=json.dumps(call.arguments), call_id=utils.shortuuid("call_")
            )
            for call in self._reply.tool_calls
        ]
        sentences = _sentences(self._reply.text)
        if calls and len(sentences) <= 1:
            # The acknowledgement and the tool calls in one chunk: TTS starts on it while the tools run.
            content = sentences[0] if sentences else None
            self._event_ch.send_nowait(
                llm.ChatChunk(
                    id=request_id,
                    delta=llm.ChoiceDelta(role="assistant", content=content, tool_calls=calls),
                )
            )
            return
        # Sentence by sentence, so TTS can start on the first one while the rest streams.
        for sentence in sentences:
            self._event_ch.send_nowait(
                llm.ChatChunk(id=request_id, delta=llm.ChoiceDelta(role="assistant", content=sentence))
            )
        if calls:
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
