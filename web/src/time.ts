// Pure time helpers for the interview and question budgets.

/** ms until `endsAt` (ISO string or ms epoch); 0 when past; null when unknown/unparseable. */
export function remainingMs(endsAt: string | number | null | undefined, now: number): number | null {
  if (endsAt === null || endsAt === undefined || endsAt === "") return null;
  const t = typeof endsAt === "number" ? endsAt : Date.parse(endsAt);
  if (Number.isNaN(t)) return null;
  return Math.max(0, t - now);
}

/** 754_000 → "12:34"; 3_723_000 → "1:02:03". Rounds up, so "0:00" only when the time is really up. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** "12 minutes 5 seconds left" style text for screen readers. */
export function spokenDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  const parts: string[] = [];
  if (m) parts.push(`${m} minute${m === 1 ? "" : "s"}`);
  if (s || !m) parts.push(`${s} second${s === 1 ? "" : "s"}`);
  return parts.join(" ");
}

/** Fraction of a budget used, clamped to [0, 1]. */
export function usedFraction(remaining: number | null, totalMs: number | null): number {
  if (remaining === null || !totalMs || totalMs <= 0) return 0;
  return Math.min(1, Math.max(0, 1 - remaining / totalMs));
}

export const DURATION_MIN = 5;
export const DURATION_MAX = 60;
export const DURATION_DEFAULT = 20;

/** Parse the duration field; null when not a whole number within 5..60. */
export function parseDuration(value: string): number | null {
  const v = value.trim();
  if (!/^\d+$/.test(v)) return null;
  const n = Number(v);
  return n >= DURATION_MIN && n <= DURATION_MAX ? n : null;
}
