// The shipped bundle (web/dist) must carry no server secret. `npm test` builds first (pretest), so a
// missing dist is a failure, not a skip. Firebase web config (apiKey…) is public by design, but we still do
// not bake it in: it comes from GET /v1/config at run time, so no Google API key may appear in dist at all.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const dist = join(__dirname, "..", "dist");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const FORBIDDEN: [string, RegExp][] = [
  ["LiveKit dev secret", /interviewer-dev-secret/],
  ["LiveKit API secret variable", /LIVEKIT_API_SECRET/],
  ["LiveKit API key variable", /LIVEKIT_API_KEY/],
  ["PEM block (private key or certificate)", /-----BEGIN [A-Z ]+-----/],
  ["service-account private_key field", /"?private_key"?\s*:/],
  ["service-account client_email", /iam\.gserviceaccount\.com/],
  ["Google API key", /AIza[0-9A-Za-z_-]{35}/],
  ["Google/Gemini API key variable", /GOOGLE_API_KEY|GEMINI_API_KEY/],
  ["Firebase emulator host variable", /FIREBASE_AUTH_EMULATOR_HOST/],
  // A signed JWT (LiveKit or Firebase token) baked in by mistake: header.payload.signature, base64url.
  ["JSON Web Token", /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/],
  ["OpenAI-style secret key", /\bsk-[A-Za-z0-9]{32,}/],
];

describe("web/dist bundle", () => {
  it("exists (npm test builds it first)", () => {
    expect(existsSync(join(dist, "index.html")), `missing ${dist}/index.html: run \`npm run build\``).toBe(true);
  });

  const all = existsSync(dist) ? files(dist) : [];

  it("ships no source maps (they would publish the sources and any comment in them)", () => {
    expect(all.filter((f) => f.endsWith(".map")).map((f) => relative(dist, f))).toEqual([]);
  });

  it("contains no secrets", () => {
    const hits: string[] = [];
    for (const f of all) {
      const text = readFileSync(f, "latin1");
      for (const [what, re] of FORBIDDEN) {
        const m = re.exec(text);
        if (m) hits.push(`${relative(dist, f)}: ${what}: …${text.slice(Math.max(0, m.index - 30), m.index + 40)}…`);
      }
    }
    expect(hits).toEqual([]);
  });

  it("the scanner itself catches what it should (guards against a silently broken pattern)", () => {
    const samples = [
      "const s='interviewer-dev-secret'",
      "-----BEGIN PRIVATE KEY-----",
      '{"private_key": "x"}',
      "AIza" + "S".repeat(35),
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyMTIzIn0.abcdefghijklmnopqrstuvwxyz012345",
    ];
    for (const s of samples) expect(FORBIDDEN.some(([, re]) => re.test(s)), s).toBe(true);
  });
});
