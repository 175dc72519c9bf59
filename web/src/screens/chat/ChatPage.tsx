import { RotateCcw, Send } from 'lucide-react'
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react'
import { ApiError, type SendMessageResult } from '../../api'
import { SessionPicker } from '../../components/SessionPicker'
import { Button, Card, EmptyState, ErrorBox, PageHeader, Spinner, Textarea } from '../../components/ui'
import { APP_BASE } from '../../lib/router'
import { MessageView } from '../sessions/MessageView'
import { useTranscript } from '../sessions/useTranscript'
import { AttemptsTable, ReplyDetails } from './ReplyDetails'
import { useChatSender } from './useChatSender'

const CONTENT_MAX = 16000
/** The latest messages first; older ones a page at a time on demand. */
const TRANSCRIPT_PAGE = 100

export function ChatPage({ sessionId }: { sessionId?: string }) {
  return (
    <div>
      <PageHeader title="Chat playground" description="Send messages to an agent and inspect each reply." />
      <SessionPicker basePath={`${APP_BASE}/chat`} sessionId={sessionId} />
      {sessionId ? <ChatSession key={sessionId} sessionId={sessionId} /> : <EmptyState title="Choose or start a session to chat" />}
    </div>
  )
}

function ChatSession({ sessionId }: { sessionId: string }) {
  const transcript = useTranscript(sessionId, 'newest-first', TRANSCRIPT_PAGE)
  const [last, setLast] = useState<SendMessageResult | null>(null)
  const [text, setText] = useState('')
  const { send, retry, dismiss, sending, failed } = useChatSender(sessionId)
  const endRef = useRef<HTMLDivElement>(null)

  const messages = transcript.messages ?? []
  // Follows the newest message, not older ones loaded above it.
  const newestId = messages[messages.length - 1]?.id
  useEffect(() => {
    endRef.current?.scrollIntoView?.({ block: 'nearest' })
  }, [newestId, sending])

  const deliver = (result: SendMessageResult | null) => {
    if (!result) return
    transcript.append([result.userMessage, result.assistantMessage])
    setLast(result)
  }

  const submit = async (e?: FormEvent) => {
    e?.preventDefault()
    const content = text
    if (!content.trim() || content.length > CONTENT_MAX) return
    setText('')
    const result = await send(content)
    if (result) deliver(result)
    else setText((current) => current || content)
  }

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault()
      void submit()
    }
  }

  const failedAttempts = failed?.error instanceof ApiError ? (failed.error.problem?.attempts ?? []) : []

  return (
    <div className="grid grid-cols-1 gap-4 lg:grid-cols-[minmax(0,1fr)_20rem]">
      <div className="min-w-0 space-y-3">
        <Card className="min-h-64 bg-slate-50">
          {transcript.error != null && <ErrorBox error={transcript.error} onRetry={transcript.reload} />}
          {transcript.loading && !transcript.messages && <Spinner label="Loading conversation…" />}
          {transcript.messages && messages.length === 0 && !sending && <p className="py-8 text-center text-sm text-slate-500">No messages yet. Say hello.</p>}
          {transcript.hasMore && (
            <div className="mb-3 flex justify-center">
              <Button variant="secondary" busy={transcript.loadingMore} onClick={transcript.loadMore}>Load older messages</Button>
            </div>
          )}
          {transcript.loadMoreError != null && <div className="mb-3"><ErrorBox error={transcript.loadMoreError} /></div>}
          <ol className="space-y-3" aria-label="Conversation">
            {messages.map((m) => (
              <MessageView key={m.id} m={m} />
            ))}
          </ol>
          {sending && <Spinner label="Waiting for the agent…" />}
          <div ref={endRef} />
        </Card>
        {failed && (
          <div className="space-y-2" data-testid="send-failed">
            <ErrorBox error={failed.error} />
            <AttemptsTable attempts={failedAttempts} />
            <div className="flex gap-2">
              <Button variant="secondary" onClick={async () => { const r = await retry(); if (r) { deliver(r); setText((t) => (t === failed.content ? '' : t)) } }} busy={sending}>
                <RotateCcw className="size-4" aria-hidden /> Retry send
              </Button>
              <Button variant="ghost" onClick={dismiss}>Dismiss</Button>
            </div>
          </div>
        )}
        <form onSubmit={submit} className="flex flex-col gap-2 sm:flex-row sm:items-end" aria-label="Send a message">
          <label htmlFor="chat-input" className="sr-only">Message</label>
          <Textarea
            id="chat-input"
            rows={2}
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={onKeyDown}
            placeholder="Type a message (Enter to send, Shift+Enter for a new line)"
            invalid={text.length > CONTENT_MAX}
          />
          <Button type="submit" busy={sending} disabled={!text.trim() || text.length > CONTENT_MAX} className="sm:w-28">
            <Send className="size-4" aria-hidden /> Send
          </Button>
        </form>
        {text.length > CONTENT_MAX && <p className="text-xs text-rose-600">Messages can be at most {CONTENT_MAX} characters.</p>}
      </div>
      <div>{last ? <ReplyDetails result={last} /> : <Card><p className="text-sm text-slate-500">Reply details (provider, model, attempts, tokens, cost and latency) appear here after you send a message.</p></Card>}</div>
    </div>
  )
}
