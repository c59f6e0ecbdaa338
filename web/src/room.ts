// The LiveKit side of an interview: joins the room with the api's token, publishes the microphone (source
// Microphone), plays and meters the interviewer's audio, and turns room events into state events.
import {
  DisconnectReason,
  ParticipantKind,
  Room,
  RoomEvent,
  Track,
  type Participant,
  type RemoteParticipant,
  type RemoteTrack,
  type RemoteTrackPublication,
  type TextStreamReader,
  type TrackPublication,
  type TranscriptionSegment,
} from "livekit-client";
import { meterTrack, type LevelMeter } from "./audio";
import type { Event } from "./state";
import type { Speaker } from "./transcript";
import type { InterviewGrant } from "./types";

export const TRANSCRIPTION_TOPIC = "lk.transcription";
const ATTR_SEGMENT_ID = "lk.segment_id";
const ATTR_FINAL = "lk.transcription_final";
const ATTR_TRACK_ID = "lk.transcribed_track_id";

export function isAgent(p: Participant): boolean {
  return p.kind === ParticipantKind.AGENT || p.attributes["lk.agent.state"] !== undefined;
}

export class InterviewRoom {
  readonly room: Room;
  private meters = new Map<string, LevelMeter>();
  private micMeter: LevelMeter | null = null;
  private silent = false;
  private agentIdentity: string | null = null;

  constructor(
    private readonly dispatch: (ev: Event) => void,
    private readonly audioContainer: HTMLElement,
  ) {
    this.room = new Room({
      adaptiveStream: false,
      dynacast: false,
      audioCaptureDefaults: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    this.wire();
  }

  private wire(): void {
    const r = this.room;
    r.on(RoomEvent.Reconnecting, () => this.emit({ type: "room_reconnecting" }));
    r.on(RoomEvent.Reconnected, () => this.emit({ type: "room_reconnected" }));
    r.on(RoomEvent.Disconnected, (reason?: DisconnectReason) => {
      this.cleanupMedia();
      this.emit({ type: "room_disconnected", roomDeleted: reason === DisconnectReason.ROOM_DELETED });
    });
    r.on(RoomEvent.ParticipantConnected, (p: RemoteParticipant) => this.onParticipant(p));
    r.on(RoomEvent.ParticipantDisconnected, (p: RemoteParticipant) => {
      if (p.identity === this.agentIdentity) {
        this.agentIdentity = null;
        this.emit({ type: "agent_left" });
      }
    });
    r.on(RoomEvent.ParticipantAttributesChanged, (_changed: Record<string, string>, p: Participant) => {
      if (p === r.localParticipant) return;
      if (p.identity !== this.agentIdentity) this.onParticipant(p as RemoteParticipant);
      else this.emit({ type: "agent_attributes", attributes: { ...p.attributes }, now: Date.now() });
    });
    r.on(RoomEvent.TrackSubscribed, (track: RemoteTrack, pub: RemoteTrackPublication) => {
      if (track.kind !== Track.Kind.Audio) return;
      const el = track.attach();
      el.dataset["trackSid"] = pub.trackSid;
      this.audioContainer.appendChild(el);
      this.meters.set(pub.trackSid, meterTrack(track.mediaStreamTrack));
    });
    r.on(RoomEvent.TrackUnsubscribed, (track: RemoteTrack, pub: RemoteTrackPublication) => {
      track.detach().forEach((el) => el.remove());
      this.meters.get(pub.trackSid)?.close();
      this.meters.delete(pub.trackSid);
    });
    r.on(RoomEvent.AudioPlaybackStatusChanged, () =>
      this.emit({ type: "audio_blocked", blocked: !r.canPlaybackAudio }),
    );
    r.on(RoomEvent.TrackMuted, (pub: TrackPublication, p: Participant) => {
      if (p === r.localParticipant && pub.source === Track.Source.Microphone) this.emit({ type: "muted", muted: true });
    });
    r.on(RoomEvent.TrackUnmuted, (pub: TrackPublication, p: Participant) => {
      if (p === r.localParticipant && pub.source === Track.Source.Microphone) this.emit({ type: "muted", muted: false });
    });

    // Transcriptions, current path: one text stream per segment update (see transcript.ts).
    r.registerTextStreamHandler(TRANSCRIPTION_TOPIC, (reader, info) => {
      void this.readTranscription(reader, info.identity);
    });
    // Legacy path (older agents, and sent alongside streams by current ones; the reducer dedupes).
    r.on(
      RoomEvent.TranscriptionReceived,
      (segments: TranscriptionSegment[], p?: Participant, pub?: TrackPublication) => {
        const speaker = this.speakerOf(p?.identity, pub?.trackSid);
        for (const seg of segments) {
          this.emit({
            type: "transcript",
            update: { id: seg.id, speaker, text: seg.text, final: seg.final, source: "legacy", at: Date.now() },
          });
        }
      },
    );
  }

  private async readTranscription(reader: TextStreamReader, identity: string): Promise<void> {
    const attrs = reader.info.attributes ?? {};
    const id = attrs[ATTR_SEGMENT_ID] ?? reader.info.id;
    const speaker = this.speakerOf(identity, attrs[ATTR_TRACK_ID]);
    const at = Date.now();
    let text = "";
    try {
      for await (const chunk of reader) {
        text += chunk;
        this.emit({ type: "transcript", update: { id, speaker, text, final: false, source: "stream", at } });
      }
    } catch {
      // Sender aborted mid-stream: keep what arrived.
    }
    // The final flag may come in the header (candidate) or in the trailer (agent, merged into info).
    // An agent segment is one delta stream, so its end is its end even if interrupted.
    const final = reader.info.attributes?.[ATTR_FINAL] === "true" || speaker === "agent";
    this.emit({ type: "transcript", update: { id, speaker, text, final, source: "stream", at } });
  }

  private speakerOf(identity: string | undefined, trackSid: string | undefined): Speaker {
    const local = this.room.localParticipant;
    if (trackSid && local.trackPublications.has(trackSid)) return "candidate";
    return identity !== undefined && identity === local.identity ? "candidate" : "agent";
  }

  private onParticipant(p: Participant): void {
    if (!isAgent(p) || this.agentIdentity) return;
    this.agentIdentity = p.identity;
    this.emit({ type: "agent_joined" });
    this.emit({ type: "agent_attributes", attributes: { ...p.attributes }, now: Date.now() });
  }

  private emit(ev: Event): void {
    if (!this.silent) this.dispatch(ev);
  }

  /** Join the room (throws on failure: map to connect_failed). */
  async connect(grant: InterviewGrant): Promise<void> {
    await this.room.connect(grant.livekit_url, grant.participant_token, { autoSubscribe: true });
    this.emit({ type: "room_connected", now: Date.now() });
    for (const p of this.room.remoteParticipants.values()) this.onParticipant(p);
    this.emit({ type: "audio_blocked", blocked: !this.room.canPlaybackAudio });
    if (!this.room.canPlaybackAudio) await this.startAudio();
  }

  /** Publish the microphone with source Microphone: the agent only listens to the candidate's
   *  SOURCE_MICROPHONE track. Throws the getUserMedia DOMException (map with mapMediaError). */
  async publishMicrophone(deviceId: string | null): Promise<void> {
    const pub = await this.room.localParticipant.setMicrophoneEnabled(
      true,
      deviceId ? { deviceId: { exact: deviceId } } : undefined,
    );
    const mst = pub?.track?.mediaStreamTrack;
    if (mst) {
      this.micMeter?.close();
      this.micMeter = meterTrack(mst);
    }
    this.emit({ type: "muted", muted: false });
  }

  async startAudio(): Promise<void> {
    try {
      await this.room.startAudio();
    } catch {
      /* still blocked; the UI keeps offering the button */
    }
    this.emit({ type: "audio_blocked", blocked: !this.room.canPlaybackAudio });
  }

  async setMuted(muted: boolean): Promise<void> {
    await this.room.localParticipant.setMicrophoneEnabled(!muted);
    this.emit({ type: "muted", muted });
  }

  /** RMS level of the interviewer's audio as played (max over subscribed audio tracks). */
  remoteLevel(): number {
    let max = 0;
    for (const m of this.meters.values()) max = Math.max(max, m.level());
    return max;
  }

  remotePeak(): number {
    let max = 0;
    for (const m of this.meters.values()) max = Math.max(max, m.peak());
    return max;
  }

  micLevel(): number {
    return this.micMeter?.level() ?? 0;
  }

  /** Leave the room. silent: no events at all (the caller already moved the UI on). */
  async disconnect(silent: boolean): Promise<void> {
    if (silent) this.silent = true;
    this.room.unregisterTextStreamHandler(TRANSCRIPTION_TOPIC);
    await this.room.disconnect();
    this.cleanupMedia();
  }

  private cleanupMedia(): void {
    for (const m of this.meters.values()) m.close();
    this.meters.clear();
    this.micMeter?.close();
    this.micMeter = null;
    this.audioContainer.replaceChildren();
  }
}
