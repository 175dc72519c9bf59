import { api, TRANSCRIPT_MAX_LIMIT } from '../../api'
import { Button, Card, EmptyState, ErrorBox, PageHeader, Spinner } from '../../components/ui'
import { formatDateTime, formatUsd } from '../../lib/format'
import { APP_BASE, Link } from '../../lib/router'
import { useAgents } from '../../lib/useAgents'
import { useAsync } from '../../lib/useAsync'
import { MessageView } from './MessageView'
import { useTranscript } from './useTranscript'

export function TranscriptPage({ sessionId }: { sessionId: string }) {
  const agents = useAgents()
  const session = useAsync(() => api.getSession(sessionId), [sessionId])
  const transcript = useTranscript(sessionId, 'oldest-first', TRANSCRIPT_MAX_LIMIT)
  const messages = transcript.messages ?? []
  const cost = messages.reduce((sum, m) => sum + (m.costUsd ?? 0), 0)
  const error = session.error ?? transcript.error
  const info = transcript.messages && session.data
  const loaded = info != null
  return (
    <div>
      <PageHeader
        title="Transcript"
        description={
          info && (
            <>
              {agents.nameOf(info.agentId) ?? 'Deleted agent'} · started {formatDateTime(info.createdAt)} ·{' '}
              {info.messageCount} messages ·{' '}
              {transcript.hasMore ? `${formatUsd(cost)} in the first ${messages.length}` : formatUsd(cost)}
            </>
          )
        }
        actions={
          <>
            <Link to={`${APP_BASE}/sessions`} className="rounded-md px-3 py-1.5 text-sm text-slate-700 ring-1 ring-slate-300 hover:bg-slate-50">All sessions</Link>
            <Link to={`${APP_BASE}/chat?session=${sessionId}`} className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm text-white hover:bg-indigo-500">Continue in chat</Link>
            <Link to={`${APP_BASE}/voice?session=${sessionId}`} className="rounded-md px-3 py-1.5 text-sm text-slate-700 ring-1 ring-slate-300 hover:bg-slate-50">Voice</Link>
          </>
        }
      />
      {error != null && <ErrorBox error={error} onRetry={() => { session.reload(); transcript.reload() }} />}
      {(session.loading || transcript.loading) && !loaded && <Spinner label="Loading transcript…" />}
      {loaded && messages.length === 0 && <EmptyState title="No messages yet">Send one from the chat or voice playground.</EmptyState>}
      {messages.length > 0 && (
        <Card className="bg-slate-50">
          <ol className="space-y-3" aria-label="Transcript">
            {messages.map((m) => (
              <MessageView key={m.id} m={m} />
            ))}
          </ol>
        </Card>
      )}
      {transcript.loadMoreError != null && <div className="mt-3"><ErrorBox error={transcript.loadMoreError} /></div>}
      {transcript.hasMore && (
        <div className="mt-3 flex justify-center">
          <Button variant="secondary" busy={transcript.loadingMore} onClick={transcript.loadMore}>Load more messages</Button>
        </div>
      )}
    </div>
  )
}
