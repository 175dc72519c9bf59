import { api, type Session } from '../api'
import { formatDateTime, shortId } from '../lib/format'
import { APP_BASE, Link, navigate } from '../lib/router'
import { useAgents } from '../lib/useAgents'
import { useAsync } from '../lib/useAsync'
import { NewSessionForm } from '../screens/sessions/NewSessionForm'
import { Card, ErrorBox, Select, Spinner } from './ui'

/** Choose the session a playground works in: an existing one or a new one for an agent. */
export function SessionPicker({ basePath, sessionId }: { basePath: string; sessionId?: string }) {
  const agents = useAgents()
  const sessions = useAsync(() => api.listSessions({ limit: 50 }), [])
  const go = (id: string) => navigate(id ? `${basePath}?session=${id}` : basePath)
  const label = (s: Session) => `${agents.nameOf(s.agentId) ?? 'Deleted agent'} · ${shortId(s.id)} · ${formatDateTime(s.createdAt)}`
  const list = sessions.data ?? []
  const current = list.some((s) => s.id === sessionId) ? sessionId : ''

  return (
    <Card className="mb-4 space-y-3">
      {(agents.error ?? sessions.error) != null && (
        <ErrorBox error={agents.error ?? sessions.error} onRetry={() => { agents.reload(); sessions.reload() }} />
      )}
      {(agents.loading || sessions.loading) && !(agents.data && sessions.data) && <Spinner label="Loading sessions…" />}
      {agents.data && sessions.data && (
        <div className="grid grid-cols-1 gap-3 md:grid-cols-2">
          <div className="space-y-1">
            <label htmlFor="pick-session" className="block text-sm font-medium text-slate-700">
              Session
            </label>
            <Select id="pick-session" value={current ?? ''} onChange={(e) => go(e.target.value)}>
              <option value="">{sessionId && !current ? `Session ${shortId(sessionId)}` : 'Choose a session…'}</option>
              {list.map((s) => (
                <option key={s.id} value={s.id}>
                  {label(s)}
                </option>
              ))}
            </Select>
          </div>
          <div className="space-y-1">
            <p className="text-sm font-medium text-slate-700">Or start a new one</p>
            {agents.data.length ? (
              <NewSessionForm agents={agents.data} onCreated={(s) => { sessions.setData((p) => [s, ...(p ?? [])]); go(s.id) }} />
            ) : (
              <p className="text-sm text-slate-500">
                No agents yet. <Link to={`${APP_BASE}/agents`} className="text-indigo-700 underline">Create one</Link>.
              </p>
            )}
          </div>
        </div>
      )}
    </Card>
  )
}
