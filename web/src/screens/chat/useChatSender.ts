import { useCallback, useRef, useState } from 'react'
import { api, type SendMessageResult } from '../../api'

export interface FailedSend {
  content: string
  key: string
  error: unknown
}

type SendFn = (sessionId: string, content: string, idempotencyKey: string) => Promise<SendMessageResult>

export const newIdempotencyKey = () => crypto.randomUUID()

/**
 * The key for a send: the failed send's key when the user retries that same content,
 * otherwise a fresh one. Reusing it lets the API replay instead of charging twice.
 */
export function keyForSend(content: string, failed: Pick<FailedSend, 'content' | 'key'> | null, makeKey: () => string = newIdempotencyKey): string {
  return failed && failed.content === content ? failed.key : makeKey()
}

/** Sends chat messages with an Idempotency-Key per send, reused on retry after a failure. */
export function useChatSender(sessionId: string | undefined, sendFn: SendFn = api.sendMessage, makeKey: () => string = newIdempotencyKey) {
  const [sending, setSending] = useState(false)
  const [failed, setFailed] = useState<FailedSend | null>(null)
  const failedRef = useRef<FailedSend | null>(null)
  const inFlight = useRef(false)

  const setFailure = (f: FailedSend | null) => {
    failedRef.current = f
    setFailed(f)
  }

  const send = useCallback(
    async (content: string): Promise<SendMessageResult | null> => {
      if (!sessionId || inFlight.current) return null
      const key = keyForSend(content, failedRef.current, makeKey)
      inFlight.current = true
      setSending(true)
      try {
        const result = await sendFn(sessionId, content, key)
        setFailure(null)
        return result
      } catch (error) {
        setFailure({ content, key, error })
        return null
      } finally {
        inFlight.current = false
        setSending(false)
      }
    },
    [sessionId, sendFn, makeKey],
  )

  /** Send the failed message again with the same Idempotency-Key. */
  const retry = useCallback(() => (failedRef.current ? send(failedRef.current.content) : Promise.resolve(null)), [send])

  const dismiss = useCallback(() => setFailure(null), [])

  return { send, retry, dismiss, sending, failed }
}
