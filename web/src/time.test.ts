import { describe, expect, it } from "vitest";
import { formatClock, parseDuration, remainingMs, spokenDuration, usedFraction } from "./time";

describe("timers", () => {
  const now = Date.parse("2025-01-01T10:00:00Z");
  it("remaining time from ISO and epoch, clamped at 0", () => {
    expect(remainingMs("2025-01-01T10:05:00Z", now)).toBe(300_000);
    expect(remainingMs(now - 5, now)).toBe(0);
    expect(remainingMs(null, now)).toBeNull();
    expect(remainingMs("not a date", now)).toBeNull();
  });

  it("formats clocks, rounding up", () => {
    expect(formatClock(0)).toBe("0:00");
    expect(formatClock(1)).toBe("0:01");
    expect(formatClock(754_000)).toBe("12:34");
    expect(formatClock(3_723_000)).toBe("1:02:03");
    expect(formatClock(-5)).toBe("0:00");
  });

  it("spoken durations", () => {
    expect(spokenDuration(61_000)).toBe("1 minute 1 second");
    expect(spokenDuration(120_000)).toBe("2 minutes");
    expect(spokenDuration(0)).toBe("0 seconds");
  });

  it("used fraction", () => {
    expect(usedFraction(30_000, 120_000)).toBe(0.75);
    expect(usedFraction(null, 1)).toBe(0);
    expect(usedFraction(200, 100)).toBe(0);
  });

  it("duration field: whole minutes 5..60", () => {
    expect(parseDuration("20")).toBe(20);
    expect(parseDuration(" 5 ")).toBe(5);
    expect(parseDuration("60")).toBe(60);
    expect(parseDuration("4")).toBeNull();
    expect(parseDuration("61")).toBeNull();
    expect(parseDuration("12.5")).toBeNull();
    expect(parseDuration("")).toBeNull();
  });
});
