// The committed wire types must be what openapi-typescript makes of the committed OpenAPI document; the
// Python suite checks that document against the api itself (tests/unit/test_openapi_types.py). Together:
// change a report field on the server without `npm run gen:types`, and a test fails.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const web = fileURLToPath(new URL("..", import.meta.url));

describe("generated api types", () => {
  it("src/api.gen.ts is up to date with openapi.json", () => {
    const dir = mkdtempSync(join(tmpdir(), "api-types-"));
    try {
      const out = join(dir, "api.gen.ts");
      execFileSync(join(web, "node_modules", ".bin", "openapi-typescript"), ["openapi.json", "-o", out], {
        cwd: web,
        stdio: "pipe",
      });
      expect(readFileSync(join(web, "src", "api.gen.ts"), "utf8")).toBe(readFileSync(out, "utf8"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
