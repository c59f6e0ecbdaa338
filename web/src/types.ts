// Wire types of the api (same origin, /v1). Kept in one place so a contract change is one diff.

export interface FirebasePublicConfig {
  apiKey: string;
  authDomain: string;
  projectId: string;
  /** e.g. "http://127.0.0.1:9099" when the api runs against the Auth emulator, else null. */
  emulatorUrl: string | null;
}

export interface RuntimeConfig {
  firebase: FirebasePublicConfig;
  agentJoinTimeoutSeconds: number;
}

export interface Competency {
  id: string;
  name: string;
}

export interface Role {
  id: string;
  title: string;
  summary: string;
  competencies: Competency[];
}

export interface InterviewGrant {
  interview_id: string;
  livekit_url: string;
  participant_token: string;
  room: string;
  expires_at: string;
}

/** Role id that means "build the plan from the pasted job description". */
export const CUSTOM_ROLE = "custom";

export const STATUS_LABELS: Record<string, string> = {
  created: "Not started",
  live: "In progress",
  finished: "Finished",
  abandoned: "Ended early",
};

export interface StartInterviewRequest {
  role: string;
  job_description?: string;
  duration_minutes?: number;
}

export interface InterviewSummary {
  interview_id: string;
  role: string;
  /** Human title of the role (the api sends it; older stubs may not). */
  role_title?: string;
  status: string;
  created_at: string;
  duration_minutes: number;
}

export type Recommendation = "strong_hire" | "hire" | "lean_hire" | "lean_no_hire" | "no_hire";

export interface Evidence {
  quote: string;
  /** Where the quote was said. Not an index into `transcript` (the api sends the stored turn's sequence
   *  number, which starts at 1; text-mode reports send the index); null when the quote was not found. */
  turn: number | null;
  question_id?: string | null;
}

export interface CompetencyScore {
  id: string;
  name: string;
  kind?: string;
  score: number | null;
  rationale: string;
  evidence: Evidence[];
}

export interface TranscriptLine {
  speaker: "agent" | "candidate";
  text: string;
  at: string;
}

export interface Report {
  interview_id: string;
  role: string;
  role_title: string;
  duration_minutes: number;
  end_reason?: string;
  competencies: CompetencyScore[];
  overall: { score: number; recommendation: Recommendation; summary: string };
  strengths: string[];
  next_steps: string[];
  transcript: TranscriptLine[];
  guard: { refused_tool_calls: number };
}

export interface InterviewDetail extends InterviewSummary {
  report: Report | null;
}

/** RFC 9457 problem details, as the api sends them (application/problem+json). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  active_interview_id?: string;
  [key: string]: unknown;
}
