import { api } from '../../api'
import { Card, EmptyState, ErrorBox, PageHeader, Spinner } from '../../components/ui'
import { formatDateTime, formatUsd } from '../../lib/format'
import { APP_BASE, Link } from '../../lib/router'
import { useAgents } from '../../lib/useAgents'
import { useAsync } from '../../lib/useAsync'
import { MessageView } from './MessageView'

export function TranscriptPage({ sessionId }: { sessionId: string }) {
  const agents = useAgents()
  const data = useAsync(
    () => Promise.all([api.getSession(sessionId), api.getTranscript(sessionId)]).then(([session, transcript]) => ({ session, transcript })),
    [sessionId],
  )
  const messages = data.data?.transcript.messages ?? []
  const cost = messages.reduce((sum, m) => sum + (m.costUsd ?? 0), 0)
  return (
    <div>
      <PageHeader
        title="Transcript"
        description={
          data.data && (
            <>
              {agents.nameOf(data.data.session.agentId) ?? 'Deleted agent'} · started {formatDateTime(data.data.session.createdAt)} ·{' '}
              {messages.length} messages · {formatUsd(cost)}
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
      {data.error != null && <ErrorBox error={data.error} onRetry={data.reload} />}
      {data.loading && !data.data && <Spinner label="Loading transcript…" />}
      {data.data && messages.length === 0 && <EmptyState title="No messages yet">Send one from the chat or voice playground.</EmptyState>}
      {messages.length > 0 && (
        <Card className="bg-slate-50">
          <ol className="space-y-3" aria-label="Transcript">
            {messages.map((m) => (
              <MessageView key={m.id} m={m} />
            ))}
          </ol>
        </Card>
      )}
    </div>
  )
}
