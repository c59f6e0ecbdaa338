// The candidate's choice of competencies before starting (issue 11): pure parts, kept out of the view so
// they are tested without a DOM.
import type { PlanPreview, StartInterviewRequest } from "./types";
import type { SetupForm } from "./state";

/** The api takes between one and this many competencies (CreateInterviewRequest.competencies). */
export const COMPETENCIES_MAX = 6;

/** Which preview belongs to which setup: a preview for another role or description must not be sent. */
export function previewKey(s: Pick<SetupForm, "role" | "jobDescription">): string {
  return `${s.role}\n${s.jobDescription.trim()}`;
}

/** The ids the candidate has ticked: null (nothing touched) means the plan's own. */
export function chosenIds(preview: PlanPreview, chosen: string[] | null): string[] {
  return chosen ?? preview.competencies.map((c) => c.id);
}

/** Ticks or unticks one id, keeping the preview's order (the plan's first, then the additions). */
export function toggleCompetency(preview: PlanPreview, chosen: string[] | null, id: string, on: boolean): string[] {
  const current = new Set(chosenIds(preview, chosen));
  if (on) current.add(id);
  else current.delete(id);
  return [...preview.competencies, ...preview.alternatives].map((c) => c.id).filter((c) => current.has(c));
}

/** Why the choice cannot be sent, or null when it can. */
export function choiceProblem(ids: string[]): string | null {
  if (ids.length === 0) return "Keep at least one competency.";
  if (ids.length > COMPETENCIES_MAX) return `Choose at most ${COMPETENCIES_MAX} competencies.`;
  return null;
}

/** The start request: the competencies are sent only when the candidate changed the plan's own. */
export function buildStartRequest(s: SetupForm): StartInterviewRequest {
  const body: StartInterviewRequest = { role: s.role, duration_minutes: s.duration };
  const jd = s.jobDescription.trim();
  if (jd) body.job_description = jd;
  if (s.competencies) body.competencies = [...s.competencies];
  return body;
}
