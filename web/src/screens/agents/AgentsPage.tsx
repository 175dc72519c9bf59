import { MessageSquare, Pencil, Plus, Trash2 } from 'lucide-react'
import { useState } from 'react'
import { api, LIST_MAX_LIMIT, type Agent } from '../../api'
import { ConfirmDialog, Modal } from '../../components/Modal'
import { Badge, Button, Card, EmptyState, ErrorBox, PageHeader, Spinner } from '../../components/ui'
import { formatDateTime } from '../../lib/format'
import { APP_BASE, Link, navigate } from '../../lib/router'
import { useAsync } from '../../lib/useAsync'
import { useNewestFirstList } from '../../lib/useNewestFirstList'
import { AgentForm } from './AgentForm'

export function AgentsPage() {
  const agents = useNewestFirstList(api.listAgents, LIST_MAX_LIMIT, [])
  // Only to name the default model of a real upstream; the list works without it.
  const catalogue = useAsync(() => api.listProviders(), [])
  const label = (provider: string, model: string | null) => {
    const info = catalogue.data?.find((p) => p.name === provider)
    return targetLabel(provider, model ?? (info && info.kind !== 'simulated' ? info.defaultModel : null))
  }
  const [editing, setEditing] = useState<Agent | 'new' | null>(null)

  const startSession = async (agent: Agent) => {
    const session = await api.createSession(agent.id)
    navigate(`${APP_BASE}/chat?session=${session.id}`)
  }

  return (
    <div>
      <PageHeader
        title="Agents"
        description="Each agent has a system prompt, a primary provider and model, and an optional fallback."
        actions={
          <Button onClick={() => setEditing('new')}>
            <Plus className="size-4" aria-hidden /> New agent
          </Button>
        }
      />
      {agents.error != null && <ErrorBox error={agents.error} onRetry={agents.reload} />}
      {agents.loading && !agents.items && <Spinner label="Loading agents…" />}
      {agents.items && agents.items.length === 0 && (
        <EmptyState title="No agents yet">Create one to start a session.</EmptyState>
      )}
      {agents.items && agents.items.length > 0 && (
        <ul className="grid grid-cols-1 gap-3 md:grid-cols-2" aria-label="Agents">
          {agents.items.map((a) => (
            <li key={a.id} data-testid="agent-row">
              <Card className="flex h-full flex-col gap-3">
                <div className="min-w-0">
                  <h2 className="truncate font-medium text-slate-900">{a.name}</h2>
                  <p className="text-xs text-slate-500">Updated {formatDateTime(a.updatedAt)}</p>
                </div>
                <div className="flex flex-wrap gap-1" data-testid="agent-targets">
                  <Badge tone="indigo" className="max-w-full break-all">
                    <span className="sr-only">Primary: </span>
                    {label(a.primaryProvider, a.primaryModel)}
                  </Badge>
                  {a.fallbackProvider && (
                    <Badge className="max-w-full break-all">
                      <span aria-hidden>→&nbsp;</span>
                      <span className="sr-only">Fallback: </span>
                      {label(a.fallbackProvider, a.fallbackModel)}
                    </Badge>
                  )}
                </div>
                <p className="line-clamp-3 text-sm break-words whitespace-pre-wrap text-slate-600">
                  {a.systemPrompt || <span className="italic text-slate-400">No system prompt</span>}
                </p>
                <div className="mt-auto flex flex-wrap gap-2">
                  <StartSessionButton onStart={() => startSession(a)} />
                  <Link to={`${APP_BASE}/sessions?agentId=${a.id}`} className="inline-flex items-center rounded-md px-3 py-1.5 text-sm text-indigo-700 hover:bg-indigo-50">
                    Sessions
                  </Link>
                  <Button variant="ghost" onClick={() => setEditing(a)} aria-label={`Edit ${a.name}`}>
                    <Pencil className="size-4" aria-hidden /> Edit
                  </Button>
                  <ConfirmDialog
                    title={`Delete ${a.name}?`}
                    description="Existing sessions keep their transcript. This cannot be undone."
                    confirmLabel="Delete"
                    onConfirm={async () => {
                      await api.deleteAgent(a.id)
                      agents.setItems((list) => list.filter((x) => x.id !== a.id))
                    }}
                    trigger={
                      <Button variant="ghost" className="text-rose-700" aria-label={`Delete ${a.name}`}>
                        <Trash2 className="size-4" aria-hidden /> Delete
                      </Button>
                    }
                  />
                </div>
              </Card>
            </li>
          ))}
        </ul>
      )}
      {agents.loadMoreError != null && <div className="mt-3"><ErrorBox error={agents.loadMoreError} /></div>}
      {agents.items && agents.hasMore && (
        <div className="mt-3 flex justify-center">
          <Button variant="secondary" busy={agents.loadingMore} onClick={agents.loadMore}>Load more agents</Button>
        </div>
      )}
      <Modal
        open={editing !== null}
        onOpenChange={(o) => !o && setEditing(null)}
        title={editing === 'new' ? 'New agent' : `Edit ${editing?.name ?? 'agent'}`}
      >
        {editing !== null && (
          <AgentForm
            agent={editing === 'new' ? undefined : editing}
            onCancel={() => setEditing(null)}
            onSubmit={async (input) => {
              if (editing === 'new') {
                const created = await api.createAgent(input)
                agents.setItems((list) => [created, ...list])
              } else {
                const updated = await api.updateAgent(editing.id, input)
                agents.setItems((list) => list.map((x) => (x.id === updated.id ? updated : x)))
              }
              setEditing(null)
            }}
          />
        )}
      </Modal>
    </div>
  )
}

/** "Local · llama3.1:8b", or just the provider (a simulated vendor, or a default model not known here). */
function targetLabel(provider: string, model: string | null): string {
  return model ? `${provider} · ${model}` : provider
}

function StartSessionButton({ onStart }: { onStart: () => Promise<void> }) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  return (
    <>
      <Button
        variant="secondary"
        busy={busy}
        onClick={async () => {
          setBusy(true)
          setError(null)
          try {
            await onStart()
          } catch (e) {
            setError(e)
            setBusy(false)
          }
        }}
      >
        <MessageSquare className="size-4" aria-hidden /> Chat
      </Button>
      {error != null && (
        <div className="w-full">
          <ErrorBox error={error} />
        </div>
      )}
    </>
  )
}
