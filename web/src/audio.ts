// WebAudio level metering (mic pre-flight and the interviewer's voice). Pure maths at the top.

/** Root mean square of time-domain samples in [-1, 1]. */
export function rms(samples: Float32Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    sum += v * v;
  }
  return Math.sqrt(sum / samples.length);
}

/** RMS → 0..1 for a meter, on a dB scale from -60 dB (empty) to 0 dB (full). */
export function meterFraction(level: number): number {
  if (level <= 0) return 0;
  const db = 20 * Math.log10(level);
  return Math.min(1, Math.max(0, (db + 60) / 60));
}

let sharedCtx: AudioContext | null = null;
export function audioContext(): AudioContext {
  if (!sharedCtx) sharedCtx = new AudioContext();
  if (sharedCtx.state === "suspended") void sharedCtx.resume();
  return sharedCtx;
}

export interface LevelMeter {
  /** Current RMS level, 0..1. */
  level(): number;
  /** Highest level seen since creation. */
  peak(): number;
  close(): void;
}

/** Meter a MediaStreamTrack through an AnalyserNode (not connected to the speakers). */
export function meterTrack(track: MediaStreamTrack): LevelMeter {
  const ctx = audioContext();
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  source.connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  let peak = 0;
  return {
    level() {
      analyser.getFloatTimeDomainData(buf);
      const l = rms(buf);
      if (l > peak) peak = l;
      return l;
    },
    peak: () => peak,
    close() {
      source.disconnect();
      analyser.disconnect();
    },
  };
}

export interface MicDevice {
  deviceId: string;
  label: string;
}

export async function listMicrophones(): Promise<MicDevice[]> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices
    .filter((d) => d.kind === "audioinput")
    .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Microphone ${i + 1}` }));
}

/** Open the microphone (throws the getUserMedia DOMException; map it with mapMediaError). */
export async function openMicrophone(deviceId: string | null): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw Object.assign(new Error("getUserMedia unavailable"), { name: "NotFoundError" });
  }
  return navigator.mediaDevices.getUserMedia({
    audio: deviceId ? { deviceId: { exact: deviceId } } : true,
    video: false,
  });
}
