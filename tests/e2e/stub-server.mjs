// STUB api for exercising the web client without the Python api. NOT the real api: it verifies no token
// (any Bearer is accepted), stores interviews in memory and serves a canned report. It does mint real LiveKit
// tokens (HS256, same claims shape as the api) for a real livekit-server, and can spawn the STUB agent
// (stub_agent.py) into each fresh room. Serves web/dist at / like the api does.
import { spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const repo = join(here, "..", "..");
const dist = join(repo, "web", "dist");

const MIME = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".json": "application/json" };

export const ROLES = [
  {
    id: "backend-engineer",
    title: "Backend engineer",
    summary: "Designs, builds and runs services and data stores; owns reliability and performance.",
    competencies: [
      { id: "system_design", name: "System design" },
      { id: "debugging", name: "Debugging and operations" },
      { id: "ownership", name: "Ownership" },
      { id: "communication", name: "Communication" },
    ],
  },
  {
    id: "product-manager",
    title: "Product manager",
    summary: "Finds the problem worth solving, aligns people on it and ships the smallest thing that proves it.",
    competencies: [
      { id: "discovery", name: "Product discovery" },
      { id: "prioritization", name: "Prioritisation" },
      { id: "communication", name: "Communication" },
    ],
  },
];

function b64url(obj) {
  return Buffer.from(typeof obj === "string" ? obj : JSON.stringify(obj)).toString("base64url");
}

/** LiveKit access token: identity, one room, microphone-only publish, short TTL. */
export function livekitToken({ key, secret, identity, room, ttlSeconds = 600 }) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url({ alg: "HS256", typ: "JWT" });
  const body = b64url({
    iss: key,
    sub: identity,
    nbf: now - 5,
    exp: now + ttlSeconds,
    name: identity,
    video: { roomJoin: true, room, canPublish: true, canSubscribe: true, canPublishData: true, canPublishSources: ["microphone"] },
  });
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

function uidFromBearer(req) {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
  if (!m) return null;
  try {
    const payload = JSON.parse(Buffer.from(m[1].split(".")[1], "base64url").toString());
    return payload.user_id ?? payload.sub ?? null;
  } catch {
    return null;
  }
}

function cannedReport(iv, transcript) {
  return {
    interview_id: iv.interview_id,
    role: iv.role,
    role_title: ROLES.find((r) => r.id === iv.role)?.title ?? iv.role,
    duration_minutes: iv.duration_minutes,
    competencies: [
      { id: "system_design", name: "System design", score: 4, rationale: "STUB REPORT. Clear trade-offs between consistency and latency.", evidence: [{ quote: "We moved the hot path to a write-behind cache and measured p99 before and after.", turn: 3 }] },
      { id: "debugging", name: "Debugging and operations", score: 3, rationale: "STUB REPORT. Methodical, but no numbers on impact.", evidence: [{ quote: "I bisected the deploys until the regression showed up.", turn: 5 }] },
      { id: "ownership", name: "Ownership", score: 5, rationale: "STUB REPORT. Took the on-call fix through to a postmortem.", evidence: [] },
      { id: "communication", name: "Communication", score: null, rationale: "Not covered in the time.", evidence: [] },
    ],
    overall: { score: 3.9, recommendation: "lean_hire", summary: "STUB REPORT: canned content served by the e2e stub api, not a real scorecard." },
    strengths: ["Explains trade-offs with concrete numbers", "Owns outcomes end to end"],
    next_steps: ["Practise quantifying results", "Prepare one story about disagreement"],
    transcript: transcript.length
      ? transcript
      : [
          { speaker: "agent", text: "Hello, and welcome.", at: iv.created_at },
          { speaker: "candidate", text: "Hi, thanks for having me.", at: iv.created_at },
        ],
    guard: { refused_tool_calls: 0 },
  };
}

/**
 * opts: { port, livekitUrl, livekitKey, livekitSecret, agent: boolean, agentJoinTimeoutSeconds,
 *         emulatorUrl, python, reportDelayMs, log }
 */
export function startStubApi(opts) {
  const interviews = new Map();
  const children = new Set();
  const log = opts.log ?? (() => {});

  function problem(res, status, title, detail, extra = {}, headers = {}) {
    res.writeHead(status, { "Content-Type": "application/problem+json", ...headers });
    res.end(JSON.stringify({ type: "about:blank", title, status, detail, ...extra }));
  }
  function json(res, status, body) {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  }
  async function readBody(req) {
    let s = "";
    for await (const c of req) s += c;
    return s ? JSON.parse(s) : {};
  }
  function grant(iv) {
    return {
      interview_id: iv.interview_id,
      livekit_url: opts.livekitUrl,
      participant_token: livekitToken({ key: opts.livekitKey, secret: opts.livekitSecret, identity: iv.uid, room: iv.room }),
      room: iv.room,
      expires_at: new Date(Date.now() + 600_000).toISOString(),
    };
  }
  function spawnAgent(iv) {
    if (!opts.agent) return;
    const child = spawn(
      opts.python,
      [join(here, "stub_agent.py"), "--url", opts.livekitUrl, "--room", iv.room, "--key", opts.livekitKey, "--secret", opts.livekitSecret, "--candidate", iv.uid, "--duration-minutes", String(iv.duration_minutes)],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
    children.add(child);
    iv.agent = child;
    child.on("exit", () => children.delete(child));
  }
  function endInterview(iv) {
    if (iv.status === "live") {
      iv.status = "abandoned";
      setTimeout(() => {
        iv.status = "finished";
        iv.report = cannedReport(iv, []);
      }, opts.reportDelayMs ?? 1500);
    }
    iv.agent?.kill("SIGTERM");
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    const p = url.pathname;
    log(`${req.method} ${p}`);
    try {
      if (p === "/v1/config") {
        return json(res, 200, {
          firebase: { apiKey: "demo-api-key", authDomain: "demo-interviewer.firebaseapp.com", projectId: "demo-interviewer", emulatorUrl: opts.emulatorUrl },
          agentJoinTimeoutSeconds: opts.agentJoinTimeoutSeconds,
        });
      }
      if (p === "/v1/roles") return json(res, 200, { roles: ROLES });
      if (p.startsWith("/v1/")) {
        const uid = uidFromBearer(req);
        if (!uid) return problem(res, 401, "Unauthorized", "missing or malformed bearer token");
        if (p === "/v1/interviews" && req.method === "POST") {
          const body = await readBody(req);
          const custom = body.role === "custom";
          if (!custom && !ROLES.some((r) => r.id === body.role)) return problem(res, 422, "Invalid interview", `unknown role ${body.role}`);
          if (custom && !body.job_description) return problem(res, 422, "Invalid interview", "job_description: required when role is 'custom'");
          const active = [...interviews.values()].find((iv) => iv.uid === uid && iv.status === "live");
          if (active) return problem(res, 409, "Interview already active", "finish or end it first", { active_interview_id: active.interview_id });
          const iv = {
            interview_id: randomUUID(),
            uid,
            role: body.role,
            status: "live",
            role_title: custom ? "Custom role" : ROLES.find((r) => r.id === body.role).title,
            created_at: new Date().toISOString(),
            duration_minutes: body.duration_minutes ?? 20,
            room: `iv-${randomUUID().slice(0, 8)}`,
            report: null,
          };
          interviews.set(iv.interview_id, iv);
          spawnAgent(iv);
          return json(res, 201, grant(iv));
        }
        if (p === "/v1/interviews" && req.method === "GET") {
          const list = [...interviews.values()].filter((iv) => iv.uid === uid).reverse();
          return json(res, 200, { interviews: list.map(({ interview_id, role, role_title, status, created_at, duration_minutes }) => ({ interview_id, role, role_title, status, created_at, duration_minutes })) });
        }
        const m = /^\/v1\/interviews\/([^/]+)(\/token|\/end)?$/.exec(p);
        const iv = m && interviews.get(decodeURIComponent(m[1]));
        if (!iv || iv.uid !== uid) return problem(res, 404, "Not found", "no such interview");
        if (m[2] === "/token" && req.method === "POST") {
          if (iv.status !== "live") return problem(res, 409, "Interview not active", "it has ended");
          return json(res, 200, grant(iv));
        }
        if (m[2] === "/end" && req.method === "POST") {
          endInterview(iv);
          return json(res, 200, { interview_id: iv.interview_id, status: iv.status });
        }
        if (!m[2] && req.method === "GET") {
          const { interview_id, role, role_title, status, created_at, duration_minutes, report } = iv;
          return json(res, 200, { interview_id, role, role_title, status, created_at, duration_minutes, report });
        }
        return problem(res, 405, "Method not allowed", `${req.method} ${p}`);
      }
      // static web/dist with SPA fallback
      let file = normalize(join(dist, p));
      if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) file = join(dist, "index.html");
      res.writeHead(200, { "Content-Type": MIME[extname(file)] ?? "application/octet-stream" });
      res.end(readFileSync(file));
    } catch (e) {
      problem(res, 500, "Stub error", String(e));
    }
  });

  return new Promise((resolve) => {
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        interviews,
        close: async () => {
          for (const c of children) c.kill("SIGTERM");
          await new Promise((r) => server.close(r));
        },
      });
    });
  });
}
