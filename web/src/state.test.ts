import { describe, expect, it } from "vitest";
import { mapProblem } from "./errors";
import {
  agentStatus,
  BUSY_MAX_RETRIES,
  initialState,
  interviewEndsAt,
  interviewToRejoin,
  questionBudgetMs,
  reduce,
  startRetryCountdown,
  type Event,
  type State,
} from "./state";
import type { InterviewGrant, RuntimeConfig } from "./types";

const T0 = 1_700_000_000_000;
const config: RuntimeConfig = {
  firebase: { apiKey: "k", authDomain: "d", projectId: "demo-x", emulatorUrl: null },
  agentJoinTimeoutSeconds: 10,
};
const grant: InterviewGrant = {
  interview_id: "iv1",
  livekit_url: "ws://lk",
  participant_token: "tok",
  room: "r1",
  expires_at: "2030-01-01T00:00:00Z",
};

function run(events: Event[], start: State = initialState(T0)): State {
  return events.reduce(reduce, start);
}

const signedIn: Event[] = [
  { type: "config_loaded", config },
  { type: "auth_changed", user: { uid: "u1", isAnonymous: true, email: null } },
];
const inRoom: Event[] = [
  ...signedIn,
  { type: "interview_granted", grant, roleTitle: "Backend engineer", durationMinutes: 20 },
  { type: "room_connected", now: T0 },
];

describe("navigation and auth", () => {
  it("goes from loading to setup on sign-in and to signin on sign-out", () => {
    let s = run(signedIn);
    expect(s.screen).toBe("setup");
    s = reduce(s, { type: "auth_changed", user: null });
    expect(s.screen).toBe("signin");
    expect(s.session).toBeNull();
  });

  it("a granted interview opens the interview screen with a connecting session", () => {
    const s = run([...signedIn, { type: "interview_granted", grant, roleTitle: "B", durationMinutes: 20 }]);
    expect(s.screen).toBe("interview");
    expect(s.session?.connection).toBe("connecting");
    expect(agentStatus(s.session!).key).toBe("connecting");
  });
});

describe("agent-join timeout", () => {
  it("fires after agentJoinTimeoutSeconds without an agent", () => {
    let s = run(inRoom);
    s = reduce(s, { type: "tick", now: T0 + 9_999 });
    expect(s.error).toBeNull();
    s = reduce(s, { type: "tick", now: T0 + 10_000 });
    expect(s.error?.code).toBe("agent_timeout");
    expect(s.error?.actions).toContain("try_again");
    expect(s.error?.message).toContain("10 seconds");
    expect(agentStatus(s.session!).key).toBe("not_joined");
    expect(s.session!.connection).toBe("disconnected");
  });

  it("does not fire once the agent joined", () => {
    const s = run([...inRoom, { type: "agent_joined" }, { type: "tick", now: T0 + 60_000 }]);
    expect(s.error).toBeNull();
    expect(agentStatus(s.session!).key).toBe("initializing");
  });

  it("defaults to 20 s when the config does not say", () => {
    const noCfg = { ...config, agentJoinTimeoutSeconds: 0 };
    let s = run([{ type: "config_loaded", config: noCfg }, ...inRoom.slice(1)]);
    s = reduce(s, { type: "tick", now: T0 + 19_000 });
    expect(s.error).toBeNull();
    s = reduce(s, { type: "tick", now: T0 + 20_000 });
    expect(s.error?.code).toBe("agent_timeout");
  });

  it("the timer starts at room connect, not at token grant", () => {
    const s = run([
      ...signedIn,
      { type: "interview_granted", grant, roleTitle: "B", durationMinutes: 20 },
      { type: "tick", now: T0 + 30_000 },
    ]);
    expect(s.error).toBeNull();
  });

  it("a late join after the timeout keeps the error; the deliberate disconnect is not 'connection lost'", () => {
    let s = run([...inRoom, { type: "tick", now: T0 + 10_000 }, { type: "agent_joined" }]);
    expect(s.error?.code).toBe("agent_timeout");
    expect(s.session?.agentJoined).toBe(false);
    s = reduce(s, { type: "room_disconnected", roomDeleted: false });
    expect(s.error?.code).toBe("agent_timeout");
  });
});

describe("agent state and interview attributes", () => {
  it("shows greeting while the agent speaks in the greeting phase", () => {
    const s = run([
      ...inRoom,
      { type: "agent_joined" },
      { type: "agent_attributes", now: T0, attributes: { "lk.agent.state": "speaking", "interview.phase": "greeting" } },
    ]);
    expect(agentStatus(s.session!)).toEqual({ key: "greeting", label: "Interviewer is greeting you" });
  });

  it("maps listening/thinking/speaking after the greeting", () => {
    let s = run([...inRoom, { type: "agent_joined" }]);
    const at = (a: Record<string, string>) => (s = reduce(s, { type: "agent_attributes", now: T0, attributes: a }));
    at({ "interview.phase": "core", "lk.agent.state": "speaking" });
    expect(agentStatus(s.session!).key).toBe("speaking");
    at({ "lk.agent.state": "thinking" });
    expect(agentStatus(s.session!).key).toBe("thinking");
    at({ "lk.agent.state": "listening" });
    expect(agentStatus(s.session!).key).toBe("listening");
    at({ "lk.agent.state": "bogus" });
    expect(s.session!.agentState).toBe("listening");
  });

  it("tracks question budget from the moment the question changes", () => {
    const ends = new Date(T0 + 120_000).toISOString();
    let s = run([
      ...inRoom,
      {
        type: "agent_attributes",
        now: T0,
        attributes: { "interview.question": "Tell me about a system you scaled.", "interview.question_ends_at": ends },
      },
    ]);
    expect(questionBudgetMs(s.session!)).toBe(120_000);
    s = reduce(s, { type: "agent_attributes", now: T0 + 5_000, attributes: { "interview.question": "Tell me about a system you scaled." } });
    expect(s.session!.questionStartedAt).toBe(T0);
  });

  it("interview end: agent attribute wins, else connect time + duration (estimated)", () => {
    let s = run(inRoom);
    expect(interviewEndsAt(s.session!)).toEqual({ at: T0 + 20 * 60_000, estimated: true });
    const iso = new Date(T0 + 900_000).toISOString();
    s = reduce(s, { type: "agent_attributes", now: T0, attributes: { "interview.ends_at": iso } });
    expect(interviewEndsAt(s.session!)).toEqual({ at: T0 + 900_000, estimated: false });
  });
});

describe("connection", () => {
  it("reconnecting → reconnected", () => {
    let s = run([...inRoom, { type: "agent_joined" }, { type: "room_reconnecting" }]);
    expect(agentStatus(s.session!).key).toBe("reconnecting");
    s = reduce(s, { type: "room_reconnected" });
    expect(s.session!.connection).toBe("connected");
  });

  it("an unexpected disconnect offers rejoin", () => {
    const s = run([...inRoom, { type: "agent_joined" }, { type: "room_disconnected", roomDeleted: false }]);
    expect(s.error?.code).toBe("connection_lost");
    expect(s.error?.actions).toEqual(["rejoin", "end_active"]);
    expect(s.error?.interviewId).toBe("iv1");
  });

  it("a lost connection is rejoined by itself once per interview", () => {
    const before = run([...inRoom, { type: "agent_joined" }]);
    const lost = reduce(before, { type: "room_disconnected", roomDeleted: false });
    expect(interviewToRejoin(before, lost, new Set())).toBe("iv1");
    expect(interviewToRejoin(before, lost, new Set(["iv1"]))).toBeNull(); // the second time: the button
    expect(interviewToRejoin(lost, lost, new Set())).toBeNull(); // only on the transition
    const ended = reduce(before, { type: "room_disconnected", roomDeleted: true });
    expect(interviewToRejoin(before, ended, new Set())).toBeNull(); // the room was deleted: it is over
  });

  it("a disconnect after End (or room deleted, or phase ended) goes to the report", () => {
    for (const extra of [
      [{ type: "end_requested" }, { type: "room_disconnected", roomDeleted: false }],
      [{ type: "room_disconnected", roomDeleted: true }],
      [{ type: "agent_attributes", now: T0, attributes: { "interview.phase": "ended" } }, { type: "room_disconnected", roomDeleted: false }],
    ] as Event[][]) {
      const s = run([...inRoom, { type: "agent_joined" }, ...extra]);
      expect(s.screen).toBe("report");
      expect(s.error).toBeNull();
      expect(s.report).toEqual({ interviewId: "iv1", detail: null, pending: true, agentScoring: true });
    }
  });

  it("leaving before the agent joined expects no scorecard from it", () => {
    const s = run([...inRoom, { type: "end_requested" }, { type: "room_disconnected", roomDeleted: true }]);
    expect(s.screen).toBe("report");
    expect(s.report).toEqual({ interviewId: "iv1", detail: null, pending: true, agentScoring: false });
  });

  it("a rejoin of the same interview keeps the transcript", () => {
    const s = run([
      ...inRoom,
      { type: "transcript", update: { id: "a", speaker: "agent", text: "Hi", final: true, source: "stream", at: T0 } },
      { type: "room_disconnected", roomDeleted: false },
      { type: "interview_granted", grant, roleTitle: "B", durationMinutes: 20 },
    ]);
    expect(s.error).toBeNull();
    expect(s.session!.transcript.segments.map((x) => x.text)).toEqual(["Hi"]);
  });
});

describe("busy: every interviewer is full", () => {
  const busy = mapProblem(503, { type: "urn:interviewer:problem:busy", status: 503, retry_after: 5 });
  const onPreflight: Event[] = [...signedIn, { type: "navigate", screen: "preflight" }];
  const busyAt = (now: number): Event => ({ type: "start_busy", error: busy, now });

  it("busy → waiting with a countdown → due → retry → granted opens the room", () => {
    let s = run([...onPreflight, { type: "start_requested" }]);
    expect(s.busy).toBe("starting");
    s = reduce(s, busyAt(T0));
    expect(s.screen).toBe("preflight");
    expect(s.session).toBeNull();
    expect(s.busy).toBeNull();
    expect(s.error?.code).toBe("busy");
    expect(s.startRetry).toEqual({ busyAnswers: 1, status: "waiting", retryAt: T0 + 5_000 });
    // The countdown starts at the full wait, however long ago the last tick was.
    expect(startRetryCountdown(reduce(s, { type: "start_busy", error: busy, now: T0 + 400 }))?.remainingSeconds).toBe(5);
    expect(startRetryCountdown(s)?.remainingSeconds).toBe(5);

    s = reduce(s, { type: "tick", now: T0 + 1_200 });
    expect(startRetryCountdown(s)).toEqual({ remainingSeconds: 4, attempt: 1, maxAttempts: BUSY_MAX_RETRIES, trying: false });
    s = reduce(s, { type: "tick", now: T0 + 4_999 });
    expect(s.startRetry?.status).toBe("waiting");
    s = reduce(s, { type: "tick", now: T0 + 5_000 });
    expect(s.startRetry?.status).toBe("due");
    expect(startRetryCountdown(s)?.remainingSeconds).toBe(0);

    // The app asks again: the busy message stays until the answer comes.
    s = reduce(s, { type: "start_requested" });
    expect(s.startRetry?.status).toBe("retrying");
    expect(s.busy).toBe("starting");
    expect(s.error?.code).toBe("busy");
    expect(startRetryCountdown(s)?.trying).toBe(true);
    // A tick while the request is in flight does not make it due again.
    expect(reduce(s, { type: "tick", now: T0 + 60_000 }).startRetry?.status).toBe("retrying");

    s = reduce(s, { type: "interview_granted", grant, roleTitle: "B", durationMinutes: 20 });
    expect(s.screen).toBe("interview");
    expect(s.error).toBeNull();
    expect(s.startRetry).toBeNull();
    expect(startRetryCountdown(s)).toBeNull();
  });

  it("a second busy answer waits again and counts", () => {
    const s = run([...onPreflight, busyAt(T0), { type: "tick", now: T0 + 5_000 }, { type: "start_requested" }, busyAt(T0 + 6_000)]);
    expect(s.startRetry).toEqual({ busyAnswers: 2, status: "waiting", retryAt: T0 + 11_000 });
    expect(s.busy).toBeNull();
  });

  it(`stops after ${BUSY_MAX_RETRIES} automatic retries and offers the buttons`, () => {
    let s = run([...onPreflight, { type: "start_requested" }, busyAt(T0)]);
    let now = T0;
    let retries = 0;
    for (;;) {
      now += 5_000;
      s = reduce(s, { type: "tick", now });
      if (s.startRetry?.status !== "due") break;
      retries++;
      s = reduce(s, { type: "start_requested" });
      s = reduce(s, busyAt(now));
    }
    expect(retries).toBe(BUSY_MAX_RETRIES);
    expect(s.startRetry).toBeNull();
    expect(s.busy).toBeNull();
    expect(s.error?.code).toBe("busy");
    expect(s.error?.actions).toEqual(["retry", "back"]);
    expect(s.error?.retryAfterSeconds).toBeUndefined();
    expect(s.error?.message).toContain(`${BUSY_MAX_RETRIES} more times`);
    // Nothing more is due, however long the page stays open.
    expect(reduce(s, { type: "tick", now: now + 3_600_000 }).startRetry).toBeNull();
    // "Try again" after that is the person's own new start: a fresh count.
    s = reduce(s, { type: "error", error: null });
    s = reduce(s, { type: "start_requested" });
    s = reduce(s, busyAt(now));
    expect(s.startRetry?.busyAnswers).toBe(1);
  });

  it("back cancels the wait; nothing becomes due afterwards", () => {
    let s = run([...onPreflight, busyAt(T0), { type: "navigate", screen: "setup" }]);
    expect(s.startRetry).toBeNull();
    expect(s.error).toBeNull();
    s = reduce(s, { type: "tick", now: T0 + 60_000 });
    expect(s.startRetry).toBeNull();
  });

  it("signing out cancels the wait", () => {
    const s = run([...onPreflight, busyAt(T0), { type: "auth_changed", user: null }]);
    expect(s.startRetry).toBeNull();
  });

  it("another failure during the retry ends the wait and shows that error", () => {
    const s = run([
      ...onPreflight,
      busyAt(T0),
      { type: "tick", now: T0 + 5_000 },
      { type: "start_requested" },
      { type: "error", error: mapProblem(500, null) },
    ]);
    expect(s.startRetry).toBeNull();
    expect(s.error?.code).toBe("server");
  });

  it("a busy answer without a wait falls back to the default, never an immediate loop", () => {
    const { retryAfterSeconds: _, ...noWait } = busy;
    const s = run([...onPreflight, { type: "start_busy", error: noWait, now: T0 }]);
    expect(s.startRetry!.retryAt).toBeGreaterThan(T0);
  });
});

describe("report", () => {
  it("stays pending while the report is null, then shows it", () => {
    let s = run([...signedIn, { type: "open_report", interviewId: "iv9" }]);
    const base = { interview_id: "iv9", role: "r", status: "scoring", created_at: "", duration_minutes: 20 };
    s = reduce(s, { type: "report_loaded", detail: { ...base, report: null } });
    expect(s.report?.pending).toBe(true);
    s = reduce(s, { type: "report_loaded", detail: { ...base, interview_id: "other", report: null } });
    expect(s.report?.detail?.interview_id).toBe("iv9");
    s = reduce(s, { type: "report_unavailable", interviewId: "iv9" });
    expect(s.report).toMatchObject({ pending: false, unavailable: true });
  });
});
