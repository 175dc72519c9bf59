import { api } from '../../api'
import { Button, Card, EmptyState, ErrorBox, PageHeader, Select, Spinner } from '../../components/ui'
import { formatDateTime, shortId } from '../../lib/format'
import { APP_BASE, Link, navigate } from '../../lib/router'
import { useAgents } from '../../lib/useAgents'
import { useNewestFirstList } from '../../lib/useNewestFirstList'
import { NewSessionForm } from './NewSessionForm'

const PAGE = 50

export function SessionsPage({ agentId }: { agentId?: string }) {
  const agents = useAgents()
  const sessions = useNewestFirstList((page) => api.listSessions({ agentId, ...page }), PAGE, [agentId])

  const setFilter = (id: string) => navigate(id ? `${APP_BASE}/sessions?agentId=${id}` : `${APP_BASE}/sessions`)

  return (
    <div>
      <PageHeader title="Sessions" description="Conversations with your agents, newest first." />
      <Card className="mb-4 space-y-3">
        {agents.error != null && <ErrorBox error={agents.error} onRetry={agents.reload} />}
        {agents.loading && !agents.data && <Spinner label="Loading agents…" />}
        {agents.data && agents.data.length === 0 && (
          <p className="text-sm text-slate-500">
            Create an agent first on the <Link to={`${APP_BASE}/agents`} className="text-indigo-700 underline">Agents</Link> page.
          </p>
        )}
        {agents.data && agents.data.length > 0 && (
          <NewSessionForm
            agents={agents.data}
            defaultAgentId={agentId}
            onCreated={(s) => sessions.setItems((prev) => [s, ...prev])}
          />
        )}
      </Card>
      <div className="mb-3 flex items-center gap-2">
        <label htmlFor="session-filter" className="text-sm whitespace-nowrap text-slate-600">
          Filter by agent
        </label>
        <Select id="session-filter" value={agentId ?? ''} onChange={(e) => setFilter(e.target.value)} className="max-w-xs">
          <option value="">All agents</option>
          {agents.data?.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
        </Select>
      </div>
      {sessions.error != null && <ErrorBox error={sessions.error} onRetry={sessions.reload} />}
      {sessions.loading && !sessions.items && <Spinner label="Loading sessions…" />}
      {sessions.items && sessions.items.length === 0 && <EmptyState title="No sessions yet">Start one above.</EmptyState>}
      {sessions.items && sessions.items.length > 0 && (
        <>
          <ul className="divide-y divide-slate-200 overflow-hidden rounded-lg bg-white ring-1 ring-slate-200" aria-label="Sessions">
            {sessions.items.map((s) => (
              <li key={s.id} className="flex flex-col gap-2 p-3 sm:flex-row sm:items-center sm:justify-between" data-testid="session-row" data-session-id={s.id}>
                <div className="min-w-0">
                  <Link to={`${APP_BASE}/sessions/${s.id}`} className="font-medium text-indigo-700 hover:underline">
                    {agents.nameOf(s.agentId) ?? 'Deleted agent'} · {shortId(s.id)}
                  </Link>
                  <p className="text-xs text-slate-500">
                    Created {formatDateTime(s.createdAt)} · {s.messageCount} message{s.messageCount === 1 ? '' : 's'}
                    {s.lastMessageAt && ` · last ${formatDateTime(s.lastMessageAt)}`}
                  </p>
                </div>
                <div className="flex gap-2 text-sm">
                  <Link to={`${APP_BASE}/sessions/${s.id}`} className="rounded-md px-2 py-1 text-slate-700 hover:bg-slate-100">Transcript</Link>
                  <Link to={`${APP_BASE}/chat?session=${s.id}`} className="rounded-md px-2 py-1 text-slate-700 hover:bg-slate-100">Chat</Link>
                  <Link to={`${APP_BASE}/voice?session=${s.id}`} className="rounded-md px-2 py-1 text-slate-700 hover:bg-slate-100">Voice</Link>
                </div>
              </li>
            ))}
          </ul>
          {sessions.loadMoreError != null && <div className="mt-3"><ErrorBox error={sessions.loadMoreError} /></div>}
          {sessions.hasMore && (
            <div className="mt-3 flex justify-center">
              <Button variant="secondary" busy={sessions.loadingMore} onClick={sessions.loadMore}>Load older sessions</Button>
            </div>
          )}
        </>
      )}
    </div>
  )
}
