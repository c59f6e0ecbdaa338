#!/usr/bin/env node
// Browser e2e for the web client: headless Debian Chromium driven by playwright-core (web/ devDependency).
//
// Against a running stack (the real thing):
//   INTERVIEWER_URL=http://127.0.0.1:8000 node tests/e2e/web.e2e.mjs
//   optional INTERVIEWER_NO_AGENT_URL=… a stack whose agent never joins (no worker, or a short
//   agentJoinTimeoutSeconds) for the agent-did-not-join test; skipped (reported) when unset.
// Stub mode (no Python api, no agent stack), to exercise the client alone:
//   node tests/e2e/web.e2e.mjs --stub
//   starts a real livekit-server (LIVEKIT_SERVER_BIN or ~/.cache/interviewer/livekit-v1.13.5/server), the real
//   Firebase Auth emulator (tools/firebase), and two STUB apis (stub-server.mjs), one spawning the STUB agent
//   (stub_agent.py: scripted speech, canned "(stub STT)" candidate transcript), one with no agent at all.
// Env: CHROMIUM (default /usr/bin/chromium), E2E_WAV (candidate speech; default: espeak-ng generated),
//      E2E_EXPECT_WORDS (comma list the candidate transcript must contain; real stack only),
//      E2E_ARTIFACTS (default test-artifacts/e2e), E2E_ONLY (substring filter on test names).
// Prints one line per test and a closing "N passed, N failed" line; exit code 1 on any failure.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { networkInterfaces, tmpdir, homedir } from "node:os";
import { join } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const repo = join(here, "..", "..");
const require = createRequire(join(repo, "web", "package.json"));
const { chromium } = require("playwright-core");

const STUB = process.argv.includes("--stub");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ART = process.env.E2E_ARTIFACTS ?? join(repo, "test-artifacts", "e2e");
const ONLY = process.env.E2E_ONLY ?? "";
mkdirSync(ART, { recursive: true });
// Screenshots of this run only: a stale one from an earlier run must not pass for this run's evidence.
for (const f of readdirSync(ART)) if (f.endsWith(".png")) rmSync(join(ART, f));

const BASE_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--use-fake-device-for-media-stream",
  "--autoplay-policy=no-user-gesture-required",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

const cleanups = [];
const log = (...a) => console.log(...a);

// ---------------------------------------------------------------- helpers
async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitHttp(url, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not answer at ${url} within ${ms} ms`);
}

function startProcess(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  cleanups.push(async () => {
    if (child.exitCode === null) {
      child.kill("SIGINT");
      await new Promise((r) => {
        const t = setTimeout(() => {
          child.kill("SIGKILL");
          r();
        }, 8000);
        child.on("exit", () => {
          clearTimeout(t);
          r();
        });
      });
    }
  });
  return { child, output: () => out };
}

// The candidate's answer: words Whisper tiny gets right from espeak-ng (pipeline, latency, milliseconds), an
// "I", a number and a result, so the interviewer can score it. Chrome's fake capture LOOPS the file: the long
// silence after the speech lets the VAD end the turn and leaves the interviewer room to ask the next question
// before the candidate "speaks" again.
const CANDIDATE_SENTENCE =
  "At my last company I designed the event ingestion service. I built a queue based pipeline, and as a result " +
  "latency dropped from nine hundred to one hundred milliseconds.";
const CANDIDATE_SILENCE_S = "8";

let wavPath = null;
function candidateWav() {
  if (process.env.E2E_WAV) return process.env.E2E_WAV;
  if (wavPath) return wavPath;
  const wav = join(ART, "candidate.wav");
  const raw = join(ART, "candidate-raw.wav");
  execFileSync("espeak-ng", ["-w", raw, CANDIDATE_SENTENCE]);
  execFileSync("sox", [raw, "-r", "48000", "-c", "1", "-b", "16", wav, "pad", "0.3", CANDIDATE_SILENCE_S]);
  wavPath = wav;
  return wav;
}

async function launch({ allowMic = true } = {}) {
  const args = [...BASE_ARGS, `--use-file-for-fake-audio-capture=${candidateWav()}`];
  if (allowMic) args.push("--use-fake-ui-for-media-stream");
  else args.push("--deny-permission-prompts");
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  cleanups.push(() => browser.close().catch(() => {}));
  return browser;
}

async function newPage(browser, { width = 1200, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") log(`    [page error] ${m.text()}`);
  });
  page.on("pageerror", (e) => log(`    [page exception] ${e.message}`));
  return page;
}

const shot = (page, name) => page.screenshot({ path: join(ART, `${name}.png`), fullPage: true });
const screen = (page, name, timeout = 20_000) => page.waitForSelector(`main[data-screen="${name}"]`, { timeout });

async function signInAsGuest(page, url) {
  await page.goto(url);
  await screen(page, "signin");
  // keyboard only: Tab to "Continue as guest", press Enter
  for (let i = 0; i < 15; i++) {
    if (await page.evaluate(() => document.activeElement?.id === "guest-signin")) break;
    await page.keyboard.press("Tab");
  }
  if (!(await page.evaluate(() => document.activeElement?.id === "guest-signin"))) throw new Error("could not reach 'Continue as guest' with Tab");
  await page.keyboard.press("Enter");
  await screen(page, "setup");
}

async function chooseRole(page, role = "backend-engineer", minutes = 10) {
  await page.waitForSelector(`input[name="role"][value="${role}"]`);
  await page.check(`input[name="role"][value="${role}"]`, { force: true });
  await page.fill("#duration", String(minutes));
  await page.click("#to-preflight");
  await screen(page, "preflight");
}

async function startInterview(page) {
  await page.waitForSelector("#start-interview:not([disabled])", { timeout: 15_000 });
  await page.click("#start-interview");
  await screen(page, "interview");
}

async function configOf(url) {
  return (await fetch(new URL("/v1/config", url))).json();
}

// ---------------------------------------------------------------- tests
function tests(env) {
  const t = [];

  t.push([
    "happy path: guest → backend-engineer → greeting heard → candidate transcribed → End → report",
    async () => {
      const browser = await launch();
      const page = await newPage(browser);
      await signInAsGuest(page, env.url);
      await shot(page, "01-setup");
      await chooseRole(page);
      // pre-flight meter moves with the fake microphone
      await page.waitForFunction(() => Number(document.querySelector("#mic-meter")?.getAttribute("aria-valuenow")) > 0, null, { timeout: 15_000 });
      await shot(page, "02-preflight");
      await startInterview(page);
      await page.evaluate(() => {
        const seen = new Set();
        window.__e2eSeen = seen;
        setInterval(() => seen.add(window.__interviewer.agentStatus()), 50);
      });
      // The greeting is heard: audio arrives and plays in the page (WebAudio level on the received track)...
      await page.waitForFunction(() => window.__interviewer.remotePeak() > 0.005, null, { timeout: 60_000 });
      // ...and its words reach the transcript (the real agent's greeting; any agent line from the stub).
      const greetingWords = env.stub ? "" : "thank you for joining";
      await page.waitForFunction(
        (w) => window.__interviewer.transcript().some((l) => l.speaker === "agent" && l.text.length > 3 && l.text.toLowerCase().includes(w)),
        greetingWords,
        { timeout: 60_000 },
      );
      const seen = await page.evaluate(() => [...window.__e2eSeen]);
      await shot(page, "03-interview-greeting");
      if (!seen.includes("greeting")) {
        const sess = await page.evaluate(() => JSON.stringify({ ...window.__interviewer.state().session, transcript: undefined }));
        throw new Error(`agent status never showed "greeting" (saw ${seen.join(", ")}); session ${sess}`);
      }
      // By the time its words are in the transcript the voice has played for a while: clearly audible, not
      // just above the noise floor (a real run measures about -10 dBFS).
      const peak = await page.evaluate(() => window.__interviewer.remotePeak());
      log(`    greeting heard: remote audio peak RMS ${peak.toFixed(3)} (${(20 * Math.log10(peak)).toFixed(0)} dBFS)`);
      if (peak < 0.02) throw new Error(`the greeting played too quietly: peak RMS ${peak}`);
      // The candidate's answer (the fake microphone, recognised by the agent's STT) appears as a final line
      // with the expected words. The file loops, so the first line may be a fragment: wait for a whole one.
      const expect = (process.env.E2E_EXPECT_WORDS ?? "").split(",").map((w) => w.trim().toLowerCase()).filter(Boolean);
      try {
        await page.waitForFunction(
          (words) => window.__interviewer.transcript().some((l) => l.speaker === "candidate" && l.final && l.text.length > 0 && words.every((w) => l.text.toLowerCase().includes(w))),
          expect,
          { timeout: 90_000 },
        );
      } catch (e) {
        const said = await page.evaluate(() => window.__interviewer.transcript().filter((l) => l.speaker === "candidate").map((l) => l.text));
        throw new Error(`no candidate line with [${expect.join(", ")}] in time; candidate lines: ${JSON.stringify(said)}`);
      }
      const line = await page.evaluate(
        (words) => window.__interviewer.transcript().find((l) => l.speaker === "candidate" && l.final && words.every((w) => l.text.toLowerCase().includes(w))).text,
        expect,
      );
      log(`    candidate transcribed: "${line}"`);
      // the DOM transcript shows both sides too
      await page.waitForSelector('#transcript li[data-speaker="candidate"][data-final="true"]');
      await page.waitForSelector('#transcript li[data-speaker="agent"]');
      await shot(page, "04-interview-candidate");
      if (!env.stub) {
        // Real interviewer: let it reach a core question and move past it (the question attribute changes
        // only once the answer was recorded), so the report has at least one scored competency.
        try {
          await page.waitForFunction(() => window.__interviewer.state().session?.phase === "core", null, { timeout: 90_000 });
          const first = await page.evaluate(() => window.__interviewer.state().session.question);
          log(`    core question: "${first}"`);
          await page.waitForFunction(
            (q) => {
              const s = window.__interviewer.state().session;
              return s && s.question && s.question !== q;
            },
            first,
            { timeout: 90_000 },
          );
        } catch (e) {
          const s = await page.evaluate(() => window.__interviewer.state().session);
          throw new Error(`interview did not get past the first core question: phase ${s?.phase}, question ${s?.question}, transcript ${JSON.stringify(s?.transcript?.segments?.map((x) => [x.speaker, x.text]))}`);
        }
        await shot(page, "05-interview-core");
      }
      await page.click("#end-interview");
      await page.click("#confirm-end");
      await screen(page, "report");
      await page.waitForSelector(".competency-score", { timeout: 90_000 });
      await page.waitForSelector("#report-chart .competency-bar");
      const scores = await page.$$eval("#report-chart .competency-bar", (bars) => bars.map((b) => [b.dataset.competencyId, b.dataset.score]));
      log(`    report scores: ${JSON.stringify(scores)}`);
      await shot(page, "06-report");
      if (!env.stub && !scores.some(([, v]) => v !== undefined && v !== "" && !Number.isNaN(Number(v)))) {
        throw new Error(`no competency has a score in the report: ${JSON.stringify(scores)}`);
      }
      const reportText = await page.textContent("#report-transcript");
      if (!env.stub && !reportText.toLowerCase().includes(expect[0] ?? "")) throw new Error(`report transcript lacks the candidate's answer: ${reportText}`);
      await page.click("#open-history");
      await screen(page, "history");
      await page.waitForSelector(".history-item");
      await shot(page, "07-history");
      await browser.close();
    },
  ]);

  t.push([
    "narrow 360px: setup and pre-flight fit without horizontal scroll",
    async () => {
      const browser = await launch();
      const page = await newPage(browser, { width: 360, height: 780 });
      await signInAsGuest(page, env.url);
      await page.waitForSelector('input[name="role"]');
      await shot(page, "10-setup-360");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
      if (overflow) throw new Error("horizontal overflow at 360px on setup");
      await chooseRole(page);
      await shot(page, "11-preflight-360");
      if (await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1)) throw new Error("horizontal overflow at 360px on pre-flight");
      await browser.close();
    },
  ]);

  t.push([
    "error: microphone permission denied → clear message and retry",
    async () => {
      const browser = await launch({ allowMic: false });
      const page = await newPage(browser);
      await signInAsGuest(page, env.url);
      await chooseRole(page);
      await page.waitForSelector('#error-banner[data-error-code="mic_denied"]', { timeout: 15_000 });
      await page.waitForSelector('#error-banner button[data-action="retry_mic"]');
      if (!(await page.isDisabled("#start-interview"))) throw new Error("Start is enabled without a microphone");
      await shot(page, "20-mic-denied");
      await browser.close();
    },
  ]);

  t.push([
    "error: 409 active interview offers rejoin or end (route-stubbed api response)",
    async () => {
      const browser = await launch();
      const page = await newPage(browser);
      await page.route("**/v1/interviews", (route) =>
        route.request().method() === "POST"
          ? route.fulfill({ status: 409, contentType: "application/problem+json", body: JSON.stringify({ type: "about:blank", title: "Conflict", status: 409, detail: "an interview is active", active_interview_id: "iv-active-1" }) })
          : route.continue(),
      );
      await signInAsGuest(page, env.url);
      await chooseRole(page);
      await page.waitForSelector("#start-interview:not([disabled])");
      await page.click("#start-interview"); // stays on pre-flight
      await page.waitForSelector('#error-banner[data-error-code="active_interview"]');
      await page.waitForSelector('#error-banner button[data-action="rejoin"]');
      await page.waitForSelector('#error-banner button[data-action="end_active"]');
      await shot(page, "21-active-interview");
      await browser.close();
    },
  ]);

  t.push([
    "error: 429 shows Retry-After wait (route-stubbed api response)",
    async () => {
      const browser = await launch();
      const page = await newPage(browser);
      await page.route("**/v1/interviews", (route) =>
        route.request().method() === "POST"
          ? route.fulfill({ status: 429, headers: { "Retry-After": "7" }, contentType: "application/problem+json", body: JSON.stringify({ title: "Too Many Requests", status: 429 }) })
          : route.continue(),
      );
      await signInAsGuest(page, env.url);
      await chooseRole(page);
      await page.waitForSelector("#start-interview:not([disabled])");
      await page.click("#start-interview");
      await page.waitForSelector('#error-banner[data-error-code="rate_limited"]');
      const text = await page.textContent("#error-banner");
      if (!text.includes("7 seconds")) throw new Error(`no Retry-After in message: ${text}`);
      await browser.close();
    },
  ]);

  t.push([
    "busy: 503 every interviewer busy → countdown, no room, then it starts by itself (route-stubbed api response once)",
    async () => {
      const browser = await launch();
      const page = await newPage(browser);
      let posts = 0;
      // The api's BusyProblem (src/interviewer/api/routes.py _admit) for the first start, the real api after.
      const busyBody = {
        type: "urn:interviewer:problem:busy",
        title: "Every interviewer is busy",
        status: 503,
        detail: "all 1 interview workers are full; please try again in 3 seconds",
        retry_after: 3,
      };
      await page.route("**/v1/interviews", (route) => {
        if (route.request().method() !== "POST") return route.continue();
        posts++;
        return posts === 1
          ? route.fulfill({ status: 503, headers: { "Retry-After": "3" }, contentType: "application/problem+json", body: JSON.stringify(busyBody) })
          : route.continue();
      });
      await signInAsGuest(page, env.url);
      await chooseRole(page);
      await page.waitForSelector("#start-interview:not([disabled])");
      // Record every countdown value the page shows, and whether it ever had a room while told "busy".
      await page.evaluate(() => {
        const seen = { remaining: [], roomWhileBusy: false };
        window.__e2eBusy = seen;
        setInterval(() => {
          const c = document.querySelector("#busy-countdown:not([hidden])");
          if (c) seen.remaining.push(Number(c.dataset.remainingS));
          const st = window.__interviewer.state();
          if (st.error?.code === "busy" && st.session) seen.roomWhileBusy = true;
        }, 100);
      });
      await page.click("#start-interview");
      await page.waitForSelector('#error-banner[data-error-code="busy"]', { timeout: 10_000 });
      const text = await page.textContent("#error-banner");
      if (!/busy/i.test(text) || !text.includes("3 seconds")) throw new Error(`busy banner lacks the wait: ${text}`);
      await page.waitForSelector("#busy-countdown:not([hidden])");
      await shot(page, "23-busy-countdown");
      if ((await page.evaluate(() => document.querySelector("main").dataset.screen)) !== "preflight") throw new Error("left pre-flight while busy");
      // The retry happens by itself: no click.
      await screen(page, "interview", 20_000);
      const seen = await page.evaluate(() => window.__e2eBusy);
      const shown = [...new Set(seen.remaining.filter((n) => n > 0))];
      log(`    countdown shown: ${shown.join(" → ")} s; start requests: ${posts}`);
      if (shown.length < 2) throw new Error(`the countdown did not count down: ${JSON.stringify(shown)}`);
      if (Math.max(...shown) > busyBody.retry_after) throw new Error(`the countdown started above the api's wait: ${JSON.stringify(shown)}`);
      if (seen.roomWhileBusy) throw new Error("a room was opened while the api said busy");
      if (posts !== 2) throw new Error(`expected one busy answer and one retry, saw ${posts} start requests`);
      await page.waitForFunction(() => window.__interviewer.state().session?.connection === "connected", null, { timeout: 20_000 });
      await page.click("#end-interview");
      await page.click("#confirm-end");
      await screen(page, "report");
      await browser.close();
    },
  ]);

  t.push([
    "error: agent did not join → Try again ends it and starts a fresh interview",
    async () => {
      if (!env.noAgentUrl) return "skip: INTERVIEWER_NO_AGENT_URL not set (needs a stack whose agent never joins)";
      const cfg = await configOf(env.noAgentUrl);
      const waitMs = ((cfg.agentJoinTimeoutSeconds || 20) + 20) * 1000;
      const browser = await launch();
      const page = await newPage(browser);
      await signInAsGuest(page, env.noAgentUrl);
      await chooseRole(page);
      await startInterview(page);
      const first = await page.evaluate(() => window.__interviewer.state().session?.interviewId);
      await page.waitForSelector('#error-banner[data-error-code="agent_timeout"]', { timeout: waitMs });
      await shot(page, "22-agent-timeout");
      await page.click('#error-banner button[data-action="try_again"]');
      // The api allows one active interview per user: a new id (not a 409) proves the old one was ended.
      await page.waitForFunction((id) => {
        const s = window.__interviewer.state();
        return s.session && s.session.interviewId !== id && !s.error;
      }, first, { timeout: 20_000 });
      await browser.close();
    },
  ]);
  return t;
}

// ---------------------------------------------------------------- stub stack
async function startStubStack() {
  const { startStubApi } = await import("./stub-server.mjs");
  const lkBin = process.env.LIVEKIT_SERVER_BIN ?? join(homedir(), ".cache/interviewer/livekit-v1.13.5/server");
  if (!existsSync(lkBin)) throw new Error(`livekit-server not found at ${lkBin} (make livekit-server)`);
  const work = mkdtempSync(join(tmpdir(), "web-e2e-"));
  const lkPort = await freePort();
  const key = "e2ekey";
  const secret = "e2e-stub-only-secret-0123456789abcdef0123456789";
  const nodeIp = Object.values(networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal)?.address;
  const udpStart = 51000 + Math.floor(Math.random() * 2000);
  writeFileSync(
    join(work, "livekit.yaml"),
    [
      `port: ${lkPort}`,
      "bind_addresses: [127.0.0.1]",
      "rtc:",
      `  tcp_port: ${await freePort()}`,
      `  port_range_start: ${udpStart}`,
      `  port_range_end: ${udpStart + 200}`,
      "  use_external_ip: false",
      ...(nodeIp ? [`  node_ip: ${nodeIp}`] : []),
      "keys:",
      `  ${key}: ${secret}`,
      "logging:",
      "  level: warn",
    ].join("\n"),
  );
  const lk = startProcess(lkBin, ["--config", join(work, "livekit.yaml")]);
  await waitHttp(`http://127.0.0.1:${lkPort}/`, 20_000, "livekit-server").catch((e) => {
    throw new Error(`${e.message}\n${lk.output()}`);
  });

  // Auth: the real Firebase Auth emulator from tools/firebase.
  const fbBin = join(repo, "tools", "firebase", "node_modules", ".bin", "firebase");
  if (!existsSync(fbBin)) throw new Error(`Firebase CLI missing at ${fbBin} (make firebase-tools)`);
  const [authPort, hubPort, logPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(
    join(work, "firebase.json"),
    JSON.stringify({ emulators: { auth: { host: "127.0.0.1", port: authPort }, hub: { host: "127.0.0.1", port: hubPort }, logging: { host: "127.0.0.1", port: logPort }, ui: { enabled: false }, singleProjectMode: true } }),
  );
  const fb = startProcess(process.execPath, [fbBin, "emulators:start", "--only", "auth", "--project", "demo-interviewer"], { cwd: work });
  await waitHttp(`http://127.0.0.1:${authPort}/`, 60_000, "Firebase Auth emulator").catch((e) => {
    throw new Error(`${e.message}\n${fb.output()}`);
  });

  const common = {
    livekitUrl: `ws://127.0.0.1:${lkPort}`,
    livekitKey: key,
    livekitSecret: secret,
    emulatorUrl: `http://127.0.0.1:${authPort}`,
    python: process.env.PYTHON ?? join(repo, ".venv", "bin", "python"),
  };
  const withAgent = await startStubApi({ ...common, agent: true, agentJoinTimeoutSeconds: 20 });
  const noAgent = await startStubApi({ ...common, agent: false, agentJoinTimeoutSeconds: 4 });
  cleanups.push(withAgent.close, noAgent.close);
  log(`stub stack: api ${withAgent.url} (STUB agent), ${noAgent.url} (no agent), livekit ${common.livekitUrl}, auth emulator ${common.emulatorUrl}`);
  return { url: withAgent.url, noAgentUrl: noAgent.url };
}

// ---------------------------------------------------------------- main
async function main() {
  let env;
  if (STUB) env = { ...(await startStubStack()), stub: true };
  else if (process.env.INTERVIEWER_URL) env = { url: process.env.INTERVIEWER_URL, noAgentUrl: process.env.INTERVIEWER_NO_AGENT_URL ?? null, stub: false };
  else {
    console.error("Set INTERVIEWER_URL to a running stack, or pass --stub.");
    process.exit(2);
  }
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const [name, fn] of tests(env)) {
    if (ONLY && !name.includes(ONLY)) continue;
    const t0 = Date.now();
    try {
      const r = await fn();
      if (typeof r === "string" && r.startsWith("skip")) {
        skipped++;
        log(`- ${name} (${r})`);
      } else {
        passed++;
        log(`✓ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      }
    } catch (e) {
      failed++;
      log(`✗ ${name}\n    ${String(e?.stack ?? e).split("\n").slice(0, 4).join("\n    ")}`);
    }
  }
  log(`screenshots: ${ART}`);
  log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  return failed ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(e);
} finally {
  for (const c of cleanups.reverse()) await c();
}
process.exit(code);
