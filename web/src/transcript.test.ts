import { describe, expect, it } from "vitest";
import { emptyTranscript, mergeSegment, type SegmentUpdate, type TranscriptState } from "./transcript";

const u = (p: Partial<SegmentUpdate>): SegmentUpdate => ({
  id: "s1",
  speaker: "candidate",
  text: "",
  final: false,
  source: "stream",
  at: 0,
  ...p,
});
const merge = (...us: SegmentUpdate[]): TranscriptState => us.reduce(mergeSegment, emptyTranscript);
const texts = (t: TranscriptState) => t.segments.map((s) => `${s.speaker}:${s.text}${s.final ? "" : "…"}`);

describe("transcript merging by segment id", () => {
  it("interim updates replace the text of the same segment; final marks it final", () => {
    const t = merge(u({ text: "I led" }), u({ text: "I led the migration" }), u({ text: "I led the migration.", final: true }));
    expect(texts(t)).toEqual(["candidate:I led the migration."]);
  });

  it("keeps segments in arrival order, both speakers", () => {
    const t = merge(
      u({ id: "a1", speaker: "agent", text: "Hello" }),
      u({ id: "c1", text: "Hi" }),
      u({ id: "a1", speaker: "agent", text: "Hello, welcome.", final: true }),
      u({ id: "c1", text: "Hi there", final: true }),
    );
    expect(texts(t)).toEqual(["agent:Hello, welcome.", "candidate:Hi there"]);
  });

  it("a late interim never overwrites a final segment", () => {
    const t = merge(u({ text: "final words", final: true }), u({ text: "final" }));
    expect(texts(t)).toEqual(["candidate:final words"]);
  });

  it("a final with empty text (agent trailer) keeps the accumulated text", () => {
    const t = merge(u({ speaker: "agent", text: "So tell me" }), u({ speaker: "agent", text: "", final: true }));
    expect(texts(t)).toEqual(["agent:So tell me"]);
  });

  it("ignores empty new segments and returns the same object for no-ops", () => {
    const t1 = merge(u({ text: "  " }));
    expect(t1.segments).toEqual([]);
    const t2 = merge(u({ text: "x", final: true }));
    expect(mergeSegment(t2, u({ text: "x", final: true }))).toBe(t2);
  });

  it("text streams win over legacy transcription events (no duplicates)", () => {
    let t = merge(u({ id: "L1", source: "legacy", speaker: "agent", text: "Hello" }));
    expect(texts(t)).toEqual(["agent:Hello…"]);
    t = mergeSegment(t, u({ id: "S1", source: "stream", speaker: "agent", text: "Hello" }));
    expect(texts(t)).toEqual(["agent:Hello…"]);
    expect(t.segments[0]!.id).toBe("S1");
    t = mergeSegment(t, u({ id: "L1", source: "legacy", speaker: "agent", text: "Hello there", final: true }));
    expect(texts(t)).toEqual(["agent:Hello…"]);
  });

  it("legacy alone works (older agents)", () => {
    const t = merge(u({ id: "L1", source: "legacy", text: "a" }), u({ id: "L1", source: "legacy", text: "ab", final: true }));
    expect(texts(t)).toEqual(["candidate:ab"]);
  });
});
