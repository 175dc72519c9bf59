import { FileAudio, Mic, Send, Square } from 'lucide-react'
import { useEffect, useMemo, useState, type ChangeEvent } from 'react'
import { api, type VoiceResult } from '../../api'
import { SessionPicker } from '../../components/SessionPicker'
import { Button, Card, EmptyState, ErrorBox, PageHeader } from '../../components/ui'
import { APP_BASE } from '../../lib/router'
import { base64ToBlob } from '../../lib/wav'
import { MessageMeta } from '../sessions/MessageView'
import { newIdempotencyKey } from '../chat/useChatSender'
import { clipProblem, toClip, type Clip } from './clip'
import { MAX_SECONDS, useRecorder } from './useRecorder'

export function VoicePage({ sessionId }: { sessionId?: string }) {
  return (
    <div>
      <PageHeader title="Voice playground" description="Record or upload a WAV (up to 60 s, 10 MB); the agent answers in text and audio." />
      <SessionPicker basePath={`${APP_BASE}/voice`} sessionId={sessionId} />
      {sessionId ? <VoiceSession key={sessionId} sessionId={sessionId} /> : <EmptyState title="Choose or start a session to talk" />}
    </div>
  )
}

/** A Blob URL for a blob, revoked when it changes or the component goes away. */
function useObjectUrl(blob: Blob | null | undefined): string | null {
  const [url, setUrl] = useState<string | null>(null)
  useEffect(() => {
    if (!blob) {
      setUrl(null)
      return
    }
    const u = URL.createObjectURL(blob)
    setUrl(u)
    return () => URL.revokeObjectURL(u)
  }, [blob])
  return url
}

type Phase = 'idle' | 'sending' | 'done' | 'failed'

function VoiceSession({ sessionId }: { sessionId: string }) {
  const [clip, setClip] = useState<Clip | null>(null)
  const [clipError, setClipError] = useState<string | null>(null)
  const [phase, setPhase] = useState<Phase>('idle')
  const [error, setError] = useState<unknown>(null)
  const [result, setResult] = useState<VoiceResult | null>(null)
  const [key, setKey] = useState(newIdempotencyKey)
  const [elapsed, setElapsed] = useState(0)

  const choose = async (blob: Blob, name: string) => {
    const c = await toClip(blob, name)
    setClip(c)
    setClipError(clipProblem(c))
    setKey(newIdempotencyKey()) // a new clip is a new send
    setPhase('idle')
    setError(null)
  }
  const recorder = useRecorder((wav) => void choose(wav, 'recording.wav'))

  const clipUrl = useObjectUrl(clip?.blob)
  const replyBlob = useMemo(
    () => (result ? base64ToBlob(result.audioBase64, result.audioContentType || 'audio/wav') : null),
    [result],
  )
  const replyUrl = useObjectUrl(replyBlob)

  useEffect(() => {
    if (phase !== 'sending') return
    const started = Date.now()
    const t = window.setInterval(() => setElapsed((Date.now() - started) / 1000), 100)
    return () => window.clearInterval(t)
  }, [phase])

  const onFile = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0]
    if (file) void choose(file, file.name)
    e.target.value = ''
  }

  const submit = async () => {
    if (!clip || clipError) return
    setPhase('sending')
    setElapsed(0)
    setError(null)
    try {
      const r = await api.sendVoice(sessionId, clip.blob, key)
      setResult(r)
      setPhase('done')
      setKey(newIdempotencyKey())
    } catch (err) {
      setError(err) // the key is kept: sending again retries the same request
      setPhase('failed')
    }
  }

  const recording = recorder.state === 'recording'
  return (
    <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
      <Card className="space-y-4">
        <h2 className="text-sm font-semibold text-slate-900">1. Audio</h2>
        <div className="flex flex-wrap gap-2">
          {recording ? (
            <Button variant="danger" onClick={recorder.stop}>
              <Square className="size-4" aria-hidden /> Stop ({Math.floor(recorder.elapsed)} / {MAX_SECONDS} s)
            </Button>
          ) : (
            <Button variant="secondary" onClick={recorder.start} disabled={!recorder.supported || phase === 'sending'} busy={recorder.state === 'converting'}>
              <Mic className="size-4" aria-hidden /> {recorder.state === 'converting' ? 'Converting…' : 'Record'}
            </Button>
          )}
          <label className="inline-flex min-h-9 cursor-pointer items-center gap-1.5 rounded-md bg-white px-3 py-1.5 text-sm font-medium text-slate-800 ring-1 ring-slate-300 hover:bg-slate-50">
            <FileAudio className="size-4" aria-hidden /> Upload WAV
            <input type="file" accept=".wav,audio/wav,audio/x-wav,audio/wave" className="sr-only" onChange={onFile} data-testid="wav-input" disabled={recording || phase === 'sending'} />
          </label>
        </div>
        {!recorder.supported && <p className="text-xs text-slate-500">Recording is not available in this browser; upload a WAV instead.</p>}
        {recorder.error && <ErrorBox error={recorder.error} />}
        {recording && (
          <div className="flex items-center gap-2 text-sm text-rose-700" role="status">
            <span className="size-2 animate-pulse rounded-full bg-rose-600" /> Recording…
          </div>
        )}
        {clip && (
          <div className="space-y-2">
            <p className="text-sm text-slate-700">
              <span className="font-medium">{clip.name}</span>
              {clip.info && ` · ${clip.info.durationSeconds.toFixed(1)} s · ${clip.info.sampleRate} Hz · ${clip.info.channels === 1 ? 'mono' : `${clip.info.channels} ch`}`}
              {` · ${(clip.blob.size / 1024).toFixed(0)} KB`}
            </p>
            {clipUrl && <audio controls src={clipUrl} className="w-full" aria-label="Your audio" />}
            {clipError && <ErrorBox error={clipError} />}
          </div>
        )}
        <Button onClick={submit} disabled={!clip || !!clipError || recording} busy={phase === 'sending'}>
          <Send className="size-4" aria-hidden /> {phase === 'failed' ? 'Retry send' : 'Send to agent'}
        </Button>
        {phase === 'sending' && (
          <div className="space-y-1" role="status" data-testid="voice-progress">
            <p className="text-sm text-slate-600">Uploading, transcribing and waiting for the reply… {elapsed.toFixed(1)} s</p>
            <div className="h-1.5 overflow-hidden rounded bg-slate-200">
              <div className="h-full w-1/3 animate-pulse rounded bg-indigo-500" />
            </div>
          </div>
        )}
        {error != null && <ErrorBox error={error} />}
      </Card>
      <Card className="space-y-3">
        <h2 className="text-sm font-semibold text-slate-900">2. Reply</h2>
        {!result && <p className="text-sm text-slate-500">The transcript, the reply text and its audio appear here.</p>}
        {result && (
          <div className="space-y-3" data-testid="voice-result">
            <div>
              <h3 className="text-xs font-medium text-slate-500">You said</h3>
              <p className="text-sm break-words text-slate-900" data-testid="voice-transcript">{result.transcript || '(nothing heard)'}</p>
            </div>
            <div>
              <h3 className="text-xs font-medium text-slate-500">Agent replied</h3>
              <p className="text-sm break-words whitespace-pre-wrap text-slate-900" data-testid="voice-reply">{result.reply.content}</p>
              <MessageMeta m={result.reply} />
            </div>
            {replyUrl && <audio controls src={replyUrl} className="w-full" data-testid="reply-audio" aria-label="Reply audio" />}
          </div>
        )}
      </Card>
    </div>
  )
}
