// Pure transcript merging. Both sides' transcriptions arrive as segments identified by a segment id:
//  - text streams on topic "lk.transcription" (attributes lk.segment_id, lk.transcription_final). The agent's
//    speech is one stream per segment carrying deltas (final=true arrives in the stream trailer); the
//    candidate's speech is one stream per interim/final update, each carrying the full text so far.
//    The room layer accumulates each stream and hands us the full text of the segment so far.
//  - the legacy RoomEvent.TranscriptionReceived, full text per segment with a final flag.
// livekit-agents publishes BOTH for the same speech, under different segment ids. Text streams win: once one
// arrives, legacy segments are dropped and further legacy events ignored, so nothing is shown twice.

export type Speaker = "agent" | "candidate";
export type SegmentSource = "stream" | "legacy";

export interface Segment {
  id: string;
  speaker: Speaker;
  text: string;
  final: boolean;
  source: SegmentSource;
  /** ms epoch of the first update, for ordering and display. */
  firstAt: number;
}

export interface TranscriptState {
  segments: Segment[];
  source: "none" | SegmentSource;
}

export interface SegmentUpdate {
  id: string;
  speaker: Speaker;
  /** Full text of the segment so far (not a delta). */
  text: string;
  final: boolean;
  source: SegmentSource;
  at: number;
}

export const emptyTranscript: TranscriptState = { segments: [], source: "none" };

export function mergeSegment(state: TranscriptState, u: SegmentUpdate): TranscriptState {
  let segments = state.segments;
  let source = state.source;
  if (u.source === "legacy" && source === "stream") return state;
  if (u.source === "stream" && source !== "stream") {
    segments = segments.filter((s) => s.source !== "legacy");
    source = "stream";
  } else if (source === "none") {
    source = u.source;
  }

  const text = u.text.trim();
  const i = segments.findIndex((s) => s.id === u.id);
  if (i === -1) {
    if (!text) return segments === state.segments && source === state.source ? state : { segments, source };
    const seg: Segment = { id: u.id, speaker: u.speaker, text, final: u.final, source: u.source, firstAt: u.at };
    return { segments: [...segments, seg], source };
  }

  const prev = segments[i]!;
  // A late interim must not overwrite (or un-finalise) a final segment.
  if (prev.final && !u.final) return segments === state.segments ? state : { segments, source };
  const next: Segment = { ...prev, text: text || prev.text, final: u.final || prev.final };
  if (next.text === prev.text && next.final === prev.final && segments === state.segments) return state;
  const copy = segments.slice();
  copy[i] = next;
  return { segments: copy, source };
}

