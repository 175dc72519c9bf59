import { useCallback, useEffect, useRef, useState } from 'react'
import { blobToWav } from '../../lib/wav'

export const MAX_SECONDS = 60

type RecorderState = 'idle' | 'recording' | 'converting'

/** Record from the microphone with MediaRecorder, then convert to 16-bit PCM mono WAV. */
export function useRecorder(onWav: (wav: Blob) => void) {
  const [state, setState] = useState<RecorderState>('idle')
  const [elapsed, setElapsed] = useState(0)
  const [error, setError] = useState<string | null>(null)
  const recorder = useRef<MediaRecorder | null>(null)
  const timer = useRef<number | null>(null)
  const onWavRef = useRef(onWav)
  onWavRef.current = onWav

  const supported = typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getUserMedia && typeof MediaRecorder !== 'undefined'

  const clearTimer = () => {
    if (timer.current !== null) window.clearInterval(timer.current)
    timer.current = null
  }

  const stop = useCallback(() => {
    clearTimer()
    if (recorder.current && recorder.current.state !== 'inactive') recorder.current.stop()
  }, [])

  const start = useCallback(async () => {
    setError(null)
    let stream: MediaStream
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true } })
    } catch (e) {
      setError(e instanceof DOMException && e.name === 'NotAllowedError' ? 'Microphone access was denied.' : 'No microphone is available.')
      return
    }
    const chunks: Blob[] = []
    const rec = new MediaRecorder(stream)
    recorder.current = rec
    rec.ondataavailable = (e) => e.data.size && chunks.push(e.data)
    rec.onstop = async () => {
      stream.getTracks().forEach((t) => t.stop())
      setState('converting')
      try {
        const wav = await blobToWav(new Blob(chunks, { type: rec.mimeType || 'audio/webm' }))
        onWavRef.current(wav)
      } catch {
        setError('Could not convert the recording to WAV.')
      } finally {
        setState('idle')
      }
    }
    rec.start(250)
    const startedAt = Date.now()
    setElapsed(0)
    setState('recording')
    timer.current = window.setInterval(() => {
      const s = (Date.now() - startedAt) / 1000
      setElapsed(s)
      if (s >= MAX_SECONDS - 0.5) stop()
    }, 200)
  }, [stop])

  useEffect(() => () => {
    clearTimer()
    if (recorder.current && recorder.current.state !== 'inactive') recorder.current.stop()
  }, [])

  return { supported, state, elapsed, error, start, stop }
}
