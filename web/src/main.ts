import "./styles.css";
import { startApp, type DebugHooks } from "./app";

declare global {
  interface Window {
    /** Read-only hooks for the e2e harness (no secrets, no tokens). */
    __interviewer?: DebugHooks;
  }
}

const root = document.getElementById("app");
if (root) window.__interviewer = startApp(root);
