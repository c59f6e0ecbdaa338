import { describe, expect, it } from "vitest";
import { meterFraction, rms } from "./audio";

describe("level maths", () => {
  it("rms", () => {
    expect(rms(new Float32Array([]))).toBe(0);
    expect(rms(new Float32Array([0.5, -0.5, 0.5, -0.5]))).toBeCloseTo(0.5);
  });
  it("meter on a dB scale", () => {
    expect(meterFraction(0)).toBe(0);
    expect(meterFraction(1)).toBe(1);
    expect(meterFraction(0.001)).toBeCloseTo(0); // -60 dB
    expect(meterFraction(0.0316)).toBeCloseTo(0.5, 1); // -30 dB
  });
});
