import { h } from "../dom";
import { errorBanner, heading, type Ctx, type View } from "./view";

export function signInView(ctx: Ctx): View {
  const status = h("p", { id: "signin-error", class: "form-error", role: "alert" });
  const email = h("input", { id: "email", type: "email", name: "email", autocomplete: "email", required: true });
  const password = h("input", {
    id: "password",
    type: "password",
    name: "password",
    autocomplete: "current-password",
    minlength: 6,
    required: true,
  });
  const submit = h("button", { id: "signin-submit", type: "submit", class: "btn btn-primary" }, "Sign in");
  const create = h("button", { id: "create-account", type: "button", class: "btn" }, "Create account");
  const guest = h(
    "button",
    { id: "guest-signin", type: "button", class: "btn btn-primary btn-wide", onclick: () => ctx.actions.signInGuest() },
    "Continue as guest",
  );
  const banner = errorBanner(ctx);

  async function go(createAccount: boolean) {
    if (!email.reportValidity() || !password.reportValidity()) return;
    status.textContent = "";
    const msg = await ctx.actions.signInEmail(email.value.trim(), password.value, createAccount);
    if (msg) status.textContent = msg;
  }
  create.addEventListener("click", () => void go(true));
  const form = h(
    "form",
    { class: "card stack", novalidate: true, "aria-labelledby": "email-signin-title" },
    h("h2", { id: "email-signin-title" }, "With email"),
    h("div", { class: "field" }, h("label", { for: "email" }, "Email"), email),
    h("div", { class: "field" }, h("label", { for: "password" }, "Password"), password),
    status,
    h("div", { class: "actions" }, submit, create),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void go(false);
  });

  const el = h(
    "section",
    { class: "screen narrow" },
    heading("Sign in"),
    h("p", { class: "lead" }, "Practise a spoken interview with an AI hiring manager. Sign in to keep your reports, or try it as a guest."),
    banner.el,
    h(
      "div",
      { class: "card stack" },
      guest,
      h("p", { class: "hint" }, "As a guest, your reports belong to this browser: signing out loses them."),
    ),
    form,
  );
  return {
    el,
    update(s) {
      banner.update(s.error, s.busy);
      const busy = s.busy === "signing_in";
      for (const b of [submit, create, guest]) b.disabled = busy;
      guest.textContent = busy ? "Signing in…" : "Continue as guest";
    },
  };
}
