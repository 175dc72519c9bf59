import { readWavInfo, type WavInfo } from '../../lib/wav'

export const MAX_BYTES = 10 * 1024 * 1024
export const MAX_DURATION = 60

export interface Clip {
  blob: Blob
  name: string
  info: WavInfo | null
}

/** Why the API would refuse this WAV, or null. */
export function clipProblem(clip: Clip): string | null {
  if (!clip.info) return 'That file is not a WAV (RIFF/WAVE) file.'
  if (clip.info.format !== 1) return 'The WAV must hold PCM audio.'
  if (clip.blob.size > MAX_BYTES) return 'The WAV is larger than 10 MB.'
  if (clip.info.durationSeconds > MAX_DURATION) return 'The WAV is longer than 60 seconds.'
  return null
}

export async function toClip(blob: Blob, name: string): Promise<Clip> {
  const head = await blob.slice(0, Math.min(blob.size, 64 * 1024)).arrayBuffer()
  return { blob, name, info: readWavInfo(head, blob.size) }
}
