// 16-bit PCM mono WAV: the encoder, a header reader, and browser-side conversion of a recording.

/** Encode mono float samples (-1..1) as a 16-bit PCM WAV file. */
export function encodeWav(samples: Float32Array, sampleRate: number): ArrayBuffer {
  const bytesPerSample = 2
  const dataSize = samples.length * bytesPerSample
  const buffer = new ArrayBuffer(44 + dataSize)
  const view = new DataView(buffer)
  const ascii = (offset: number, s: string) => {
    for (let i = 0; i < s.length; i++) view.setUint8(offset + i, s.charCodeAt(i))
  }
  ascii(0, 'RIFF')
  view.setUint32(4, 36 + dataSize, true)
  ascii(8, 'WAVE')
  ascii(12, 'fmt ')
  view.setUint32(16, 16, true) // PCM fmt chunk size
  view.setUint16(20, 1, true) // format: PCM
  view.setUint16(22, 1, true) // channels: mono
  view.setUint32(24, sampleRate, true)
  view.setUint32(28, sampleRate * bytesPerSample, true) // byte rate
  view.setUint16(32, bytesPerSample, true) // block align
  view.setUint16(34, 16, true) // bits per sample
  ascii(36, 'data')
  view.setUint32(40, dataSize, true)
  let offset = 44
  for (let i = 0; i < samples.length; i++, offset += 2) {
    const s = Math.max(-1, Math.min(1, samples[i]))
    view.setInt16(offset, s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff), true)
  }
  return buffer
}

export interface WavInfo {
  format: number
  channels: number
  sampleRate: number
  bitsPerSample: number
  dataBytes: number
  durationSeconds: number
}

/**
 * Read a WAV header (walking the chunks); null when it is not a RIFF/WAVE file.
 * `buffer` may be just the start of the file when `totalBytes` gives the whole file's size.
 */
export function readWavInfo(buffer: ArrayBuffer, totalBytes = buffer.byteLength): WavInfo | null {
  if (buffer.byteLength < 12) return null
  const view = new DataView(buffer)
  const tag = (o: number) => String.fromCharCode(view.getUint8(o), view.getUint8(o + 1), view.getUint8(o + 2), view.getUint8(o + 3))
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return null
  let offset = 12
  let fmt: Omit<WavInfo, 'dataBytes' | 'durationSeconds'> | null = null
  while (offset + 8 <= buffer.byteLength) {
    const id = tag(offset)
    const size = view.getUint32(offset + 4, true)
    if (id === 'fmt ' && offset + 24 <= buffer.byteLength) {
      fmt = {
        format: view.getUint16(offset + 8, true),
        channels: view.getUint16(offset + 10, true),
        sampleRate: view.getUint32(offset + 12, true),
        bitsPerSample: view.getUint16(offset + 22, true),
      }
    } else if (id === 'data' && fmt) {
      const dataBytes = Math.max(0, Math.min(size, totalBytes - offset - 8))
      const bytesPerSecond = fmt.sampleRate * fmt.channels * (fmt.bitsPerSample / 8)
      return { ...fmt, dataBytes, durationSeconds: bytesPerSecond ? dataBytes / bytesPerSecond : 0 }
    }
    offset += 8 + size + (size % 2)
  }
  return null
}

/** Mix an AudioBuffer's channels down to mono. */
export function mixToMono(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]
  const length = Math.min(...channels.map((c) => c.length))
  const out = new Float32Array(length)
  for (const c of channels) for (let i = 0; i < length; i++) out[i] += c[i] / channels.length
  return out
}

export const TARGET_SAMPLE_RATE = 16_000

/** Decode any browser-recordable audio (webm/ogg/mp4) and re-encode it as 16 kHz 16-bit mono WAV. */
export async function blobToWav(blob: Blob, targetRate = TARGET_SAMPLE_RATE): Promise<Blob> {
  const bytes = await blob.arrayBuffer()
  const Ctx: typeof AudioContext =
    window.AudioContext ?? (window as unknown as { webkitAudioContext: typeof AudioContext }).webkitAudioContext
  const ctx = new Ctx()
  let decoded: AudioBuffer
  try {
    decoded = await ctx.decodeAudioData(bytes)
  } finally {
    void ctx.close()
  }
  let samples: Float32Array
  let rate = decoded.sampleRate
  if (typeof OfflineAudioContext !== 'undefined' && decoded.sampleRate !== targetRate) {
    // Render through a 1-channel offline context: downmixes and resamples in one pass.
    const length = Math.max(1, Math.ceil(decoded.duration * targetRate))
    const offline = new OfflineAudioContext(1, length, targetRate)
    const source = offline.createBufferSource()
    source.buffer = decoded
    source.connect(offline.destination)
    source.start()
    const rendered = await offline.startRendering()
    samples = rendered.getChannelData(0)
    rate = targetRate
  } else {
    const channels = Array.from({ length: decoded.numberOfChannels }, (_, i) => decoded.getChannelData(i))
    samples = mixToMono(channels)
  }
  return new Blob([encodeWav(samples, rate)], { type: 'audio/wav' })
}

/** Decode base64 (as returned by the voice endpoint) into a Blob. */
export function base64ToBlob(base64: string, type: string): Blob {
  const binary = atob(base64)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return new Blob([bytes], { type })
}
