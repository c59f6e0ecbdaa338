import { defineConfig } from "vitest/config";

// The api serves web/dist at `/`, same origin: relative API URLs, base "/".
export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // No source maps in the shipped bundle.
    sourcemap: false,
    target: "es2022",
    // livekit-client is one lazily loaded chunk of ~540 kB (140 kB gzip); nothing to split further.
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm run dev` against a locally running api.
    proxy: { "/v1": process.env.INTERVIEWER_API ?? "http://127.0.0.1:8000" },
  },
  test: {
    include: ["src/**/*.test.ts", "tests/**/*.test.ts"],
    environment: "node",
  },
});
