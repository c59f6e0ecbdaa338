// Wire types of the api (same origin, /v1). Kept in one place so a contract change is one diff.

import type { components } from "./api.gen";

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
  /** The candidate's choice of competency ids (from a plan preview); default: the plan's own. */
  competencies?: string[];
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

// The report and plan types are generated from the api's OpenAPI document (src/api.gen.ts, `npm run
// gen:types`), so the scorecard the server builds and the one this client renders cannot drift apart.
type Schemas = components["schemas"];

export type Recommendation = Schemas["Recommendation"];
/** `turn` is the stored turn's sequence number (1-based, not an index into `transcript`); null when the
 *  quote was not found. */
export type Evidence = Schemas["EvidenceOut"];
export type CompetencyScore = Schemas["CompetencyResult"];
export type TranscriptLine = Schemas["TranscriptLineOut"];
export type Report = Schemas["Report"];
export type PlanPreview = Schemas["PlanPreview"];
export type CompetencyChoice = Schemas["CompetencyChoice"];

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
