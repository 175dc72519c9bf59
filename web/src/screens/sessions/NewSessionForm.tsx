import { Plus } from 'lucide-react'
import { useState, type FormEvent } from 'react'
import { api, type Agent, type Session } from '../../api'
import { Button, ErrorBox, Select } from '../../components/ui'

/** Pick an agent and create a session for it. */
export function NewSessionForm({
  agents,
  defaultAgentId,
  onCreated,
  label = 'New session',
}: {
  agents: Agent[]
  defaultAgentId?: string
  onCreated: (s: Session) => void
  label?: string
}) {
  const [agentId, setAgentId] = useState(defaultAgentId && agents.some((a) => a.id === defaultAgentId) ? defaultAgentId : (agents[0]?.id ?? ''))
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!agentId) return
    setBusy(true)
    setError(null)
    try {
      onCreated(await api.createSession(agentId))
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form onSubmit={submit} className="space-y-2" aria-label="New session">
      <div className="flex flex-col gap-2 sm:flex-row">
        <label htmlFor="new-session-agent" className="sr-only">
          Agent
        </label>
        <Select id="new-session-agent" value={agentId} onChange={(e) => setAgentId(e.target.value)} className="sm:max-w-xs" disabled={!agents.length}>
          {agents.length === 0 && <option value="">No agents</option>}
          {agents.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
        </Select>
        <Button type="submit" busy={busy} disabled={!agentId}>
          <Plus className="size-4" aria-hidden /> {label}
        </Button>
      </div>
      {error != null && <ErrorBox error={error} />}
    </form>
  )
}
