import { h, setText } from "../dom";
import { DURATION_MAX, DURATION_MIN, parseDuration } from "../time";
import { choiceProblem, chosenIds, previewKey, toggleCompetency } from "../plan";
import type { State } from "../state";
import { CUSTOM_ROLE, type CompetencyChoice, type PlanPreview, type Role } from "../types";
import { errorBanner, heading, type Ctx, type View } from "./view";

export function setupView(ctx: Ctx): View {
  const banner = errorBanner(ctx);
  const rolesBox = h("div", { class: "roles", id: "roles" }, h("p", { class: "hint" }, "Loading roles…"));
  const fieldset = h("fieldset", { class: "card" }, h("legend", {}, "Role"), rolesBox);
  const jd = h("textarea", {
    id: "job-description",
    rows: 6,
    maxlength: 20000,
    "aria-describedby": "jd-hint jd-error",
    placeholder: "Paste the job description here…",
  });
  const duration = h("input", {
    id: "duration",
    type: "number",
    inputmode: "numeric",
    min: DURATION_MIN,
    max: DURATION_MAX,
    step: 1,
    required: true,
    "aria-describedby": "duration-hint duration-error",
  });
  const durationError = h("p", { id: "duration-error", class: "form-error", "aria-live": "polite" });
  const jdError = h("p", { id: "jd-error", class: "form-error", "aria-live": "polite" });
  const jdLabel = h("label", { for: "job-description" }, "Job description (optional)");
  const plan = competencyPicker(ctx);
  const next = h("button", { id: "to-preflight", type: "submit", class: "btn btn-primary btn-wide" }, "Next: check your microphone");

  const form = h(
    "form",
    { class: "stack", novalidate: true },
    fieldset,
    plan.el,
    h(
      "div",
      { class: "card stack" },
      h("div", { class: "field" }, jdLabel, jd, jdError,
        h("p", { id: "jd-hint", class: "hint" }, "The interviewer tailors its questions to the role and, if given, this description.")),
      h("div", { class: "field field-inline" }, h("label", { for: "duration" }, "Length in minutes"), duration,
        h("p", { id: "duration-hint", class: "hint" }, `Between ${DURATION_MIN} and ${DURATION_MAX} minutes.`), durationError),
    ),
    next,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const custom = ctx.state().setup.role === CUSTOM_ROLE;
    if (custom && !jd.value.trim()) {
      jdError.textContent = "Paste the job description for a custom role.";
      jd.setAttribute("aria-invalid", "true");
      jd.focus();
      return;
    }
    jdError.textContent = "";
    jd.removeAttribute("aria-invalid");
    if (!plan.validate()) return;
    const d = parseDuration(duration.value);
    if (d === null) {
      durationError.textContent = `Enter a whole number of minutes from ${DURATION_MIN} to ${DURATION_MAX}.`;
      duration.setAttribute("aria-invalid", "true");
      duration.focus();
      return;
    }
    durationError.textContent = "";
    duration.removeAttribute("aria-invalid");
    ctx.dispatch({ type: "setup_changed", patch: { duration: d, jobDescription: jd.value.trim() } });
    ctx.actions.goPreflight();
  });
  jd.addEventListener("input", () => ctx.dispatch({ type: "setup_changed", patch: { jobDescription: jd.value } }));

  const s0 = ctx.state();
  jd.value = s0.setup.jobDescription;
  duration.value = String(s0.setup.duration);

  let renderedRoles: Role[] | null = null;
  function renderRoles(roles: Role[], selected: string) {
    renderedRoles = roles;
    if (!roles.length) {
      rolesBox.replaceChildren(h("p", { class: "hint" }, "No roles are available right now."));
      return;
    }
    const sel = selected === CUSTOM_ROLE || roles.some((r) => r.id === selected) ? selected : roles[0]!.id;
    if (sel !== selected) ctx.dispatch({ type: "setup_changed", patch: { role: sel } });
    const options: Role[] = [
      ...roles,
      { id: CUSTOM_ROLE, title: "Another role", summary: "Paste a job description below: the interview is built from it.", competencies: [] },
    ];
    rolesBox.replaceChildren(
      ...options.map((r) => {
        const id = `role-${r.id}`;
        const input = h("input", {
          type: "radio",
          name: "role",
          id,
          value: r.id,
          checked: r.id === sel,
          "aria-describedby": `${id}-summary`,
          onchange: () => ctx.dispatch({ type: "setup_changed", patch: { role: r.id } }),
        });
        return h(
          "div",
          { class: "role-option" },
          input,
          h(
            "label",
            { for: id },
            h("span", { class: "role-title" }, r.title),
            h("span", { id: `${id}-summary`, class: "role-summary" }, r.summary),
            r.competencies.length
              ? h("span", { class: "chips" }, r.competencies.map((c) => h("span", { class: "chip" }, c.name)))
              : null,
          ),
        );
      }),
    );
  }

  const el = h(
    "section",
    { class: "screen" },
    heading("Choose your interview"),
    banner.el,
    form,
  );
  return {
    el,
    update(s) {
      banner.update(s.error, s.busy);
      if (s.roles && s.roles !== renderedRoles) renderRoles(s.roles, s.setup.role);
      const custom = s.setup.role === CUSTOM_ROLE;
      setText(jdLabel, custom ? "Job description (required)" : "Job description (optional)");
      jd.required = custom;
      next.disabled = !s.roles?.length;
      plan.update(s);
    },
    destroy: plan.destroy,
  };
}

/** The plan's competencies (ticked) and the ones the candidate could add (unticked), once a role is
 *  picked or a description pasted. Hidden while no preview is at hand: the plan's own are used then. */
function competencyPicker(ctx: Ctx) {
  const list = h("div", { class: "competency-list" });
  const error = h("p", { id: "competencies-error", class: "form-error", "aria-live": "polite" });
  const hint = h("p", { id: "competencies-hint", class: "hint" }, "Untick what you do not want covered, tick what you want added.");
  const el = h(
    "fieldset",
    { class: "card", id: "competencies", "aria-describedby": "competencies-hint competencies-error", hidden: true },
    h("legend", {}, "What the interview covers"),
    hint,
    list,
    error,
  );
  let shown: { key: string; preview: PlanPreview } | null = null;
  let wanted = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const boxes = new Map<string, HTMLInputElement>();

  function box(c: CompetencyChoice): HTMLElement {
    const id = `competency-${c.id}`;
    const input = h("input", {
      type: "checkbox",
      name: "competency",
      id,
      value: c.id,
      onchange: () => {
        if (!shown) return;
        const chosen = toggleCompetency(shown.preview, ctx.state().setup.competencies, c.id, input.checked);
        error.textContent = "";
        ctx.dispatch({ type: "setup_changed", patch: { competencies: chosen } });
      },
    });
    boxes.set(c.id, input);
    return h("div", { class: "competency-option" }, input, h("label", { for: id }, c.name));
  }

  function render(key: string, preview: PlanPreview) {
    shown = { key, preview };
    boxes.clear();
    const groups: HTMLElement[] = [h("div", { class: "stack" }, preview.competencies.map(box))];
    if (preview.alternatives.length) {
      groups.push(
        h("fieldset", { class: "competency-add" }, h("legend", {}, "You could add"), preview.alternatives.map(box)),
      );
    }
    list.replaceChildren(...groups);
    el.hidden = false;
  }

  function request(key: string, role: string, jd: string) {
    clearTimeout(timer);
    // Typing a description asks once the typing pauses, not on every key.
    timer = setTimeout(() => {
      void ctx.actions.previewPlan(role, jd).then((preview) => {
        if (key !== wanted) return; // the candidate moved on meanwhile
        if (preview) render(key, preview);
      });
    }, 400);
  }

  return {
    el,
    update(s: State) {
      const key = previewKey(s.setup);
      const needsJd = s.setup.role === CUSTOM_ROLE && !s.setup.jobDescription.trim();
      if (key !== wanted) {
        wanted = key;
        if (shown?.key !== key) {
          shown = null;
          el.hidden = true;
          error.textContent = "";
        }
        if (s.roles?.length && !needsJd) request(key, s.setup.role, s.setup.jobDescription);
        else clearTimeout(timer);
      }
      if (!shown) return;
      const chosen = new Set(chosenIds(shown.preview, s.setup.competencies));
      for (const [id, input] of boxes) input.checked = chosen.has(id);
    },
    /** False (with the reason shown) when the choice cannot be sent. */
    validate(): boolean {
      if (!shown) return true;
      const problem = choiceProblem(chosenIds(shown.preview, ctx.state().setup.competencies));
      error.textContent = problem ?? "";
      if (problem) boxes.values().next().value?.focus();
      return problem === null;
    },
    destroy() {
      clearTimeout(timer);
    },
  };
}
