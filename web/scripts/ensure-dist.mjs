// `npm test` runs after a build: the bundle-secrets test scans web/dist. Build when dist is missing or
// older than the sources (the Makefile already builds first, then this is a no-op).
import { execSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const distIndex = join(root, "dist", "index.html");

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((n) => newest(join(path, n))));
}

const sources = ["src", "index.html", "package-lock.json", "vite.config.ts"].map((p) => join(root, p)).filter(existsSync);
const stale = !existsSync(distIndex) || Math.max(...sources.map(newest)) > statSync(distIndex).mtimeMs;
if (stale) {
  console.log("web/dist is missing or stale: building first (npm run build)");
  execSync("npm run build", { cwd: root, stdio: "inherit" });
}
