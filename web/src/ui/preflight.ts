import { listMicrophones, meterFraction, meterTrack, openMicrophone, type LevelMeter } from "../audio";
import { h } from "../dom";
import { mapMediaError } from "../errors";
import { startRetryCountdown } from "../state";
import { errorBanner, heading, type Ctx, type View } from "./view";

/** Pre-flight: open the microphone, show a live level meter and a device picker. */
export function preflightView(ctx: Ctx): View {
  const banner = errorBanner(ctx);
  const select = h("select", { id: "mic-select", disabled: true });
  const bar = h("div", { class: "meter-fill" });
  const meter = h(
    "div",
    {
      id: "mic-meter",
      class: "meter",
      role: "meter",
      "aria-label": "Microphone level",
      "aria-valuemin": 0,
      "aria-valuemax": 100,
      "aria-valuenow": 0,
    },
    bar,
  );
  const heard = h("p", { id: "mic-heard", class: "hint", "aria-live": "polite" }, "Say something: the bar should move.");
  const start = h(
    "button",
    { id: "start-interview", type: "button", class: "btn btn-primary btn-wide", disabled: true, onclick: () => begin() },
    "Start interview",
  );
  const back = h(
    "button",
    { type: "button", class: "btn btn-link", onclick: () => ctx.dispatch({ type: "navigate", screen: "setup" }) },
    "Back",
  );

  let stream: MediaStream | null = null;
  let levelMeter: LevelMeter | null = null;
  let raf = 0;
  let heardVoice = false;
  let closed = false;

  function stop() {
    cancelAnimationFrame(raf);
    levelMeter?.close();
    levelMeter = null;
    stream?.getTracks().forEach((t) => t.stop());
    stream = null;
  }

  async function open(deviceId: string | null) {
    stop();
    start.disabled = true;
    try {
      const s = await openMicrophone(deviceId);
      if (closed) {
        s.getTracks().forEach((t) => t.stop());
        return;
      }
      stream = s;
      const track = s.getAudioTracks()[0]!;
      const actualId = track.getSettings().deviceId ?? deviceId;
      ctx.dispatch({ type: "mic_selected", deviceId: actualId ?? null });
      // A working microphone clears a microphone error, not the wait for a free interviewer.
      if (ctx.state().error && !ctx.state().startRetry) ctx.dispatch({ type: "error", error: null });
      levelMeter = meterTrack(track);
      await fillDevices(actualId ?? null);
      start.disabled = false;
      loop();
    } catch (err) {
      if (closed) return;
      ctx.dispatch({ type: "error", error: mapMediaError(err) });
      await fillDevices(deviceId).catch(() => undefined);
    }
  }

  async function fillDevices(selected: string | null) {
    const mics = await listMicrophones();
    select.replaceChildren(
      ...mics.map((m) => h("option", { value: m.deviceId, selected: m.deviceId === selected }, m.label)),
    );
    select.disabled = mics.length === 0;
  }

  function loop() {
    const l = levelMeter?.level() ?? 0;
    const pct = Math.round(meterFraction(l) * 100);
    bar.style.width = `${pct}%`;
    meter.setAttribute("aria-valuenow", String(pct));
    if (!heardVoice && l > 0.01) {
      heardVoice = true;
      heard.textContent = "We can hear you.";
    }
    raf = requestAnimationFrame(loop);
  }

  function begin() {
    stop(); // release the preview before LiveKit opens the microphone
    ctx.actions.startInterview();
  }

  select.addEventListener("change", () => void open(select.value || null));
  void open(ctx.state().micDeviceId);

  const el = h(
    "section",
    { class: "screen narrow" },
    heading("Check your microphone"),
    h("p", { class: "lead" }, "The interview is spoken. Use headphones if you can, so the interviewer does not hear itself."),
    banner.el,
    h(
      "div",
      { class: "card stack" },
      h("div", { class: "field" }, h("label", { for: "mic-select" }, "Microphone"), select),
      h("div", { class: "field" }, h("span", { class: "label", id: "mic-meter-label" }, "Level"), meter, heard),
    ),
    h("div", { class: "actions" }, start, back),
  );
  return {
    el,
    update(s) {
      banner.update(s.error, s.busy, startRetryCountdown(s));
      if (s.startRetry) {
        // Waiting for a free interviewer: the app asks again by itself ("Try again" in the banner asks now).
        start.disabled = true;
        start.textContent = "Waiting for an interviewer…";
      } else if (s.busy === "starting") {
        start.disabled = true;
        start.textContent = "Starting…";
      } else {
        start.textContent = "Start interview";
      }
    },
    destroy() {
      closed = true;
      stop();
    },
    onAction(a) {
      if (a !== "retry_mic") return false;
      ctx.dispatch({ type: "error", error: null });
      void open(select.value || null);
      return true;
    },
  };
}
