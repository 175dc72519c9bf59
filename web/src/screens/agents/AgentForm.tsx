import { useState, type FormEvent } from 'react'
import { ApiError, PROVIDERS, type Agent, type AgentInput, type Provider } from '../../api'
import { Button, ErrorBox, Field, Input, Select, Textarea } from '../../components/ui'
import { NAME_MAX, PROMPT_MAX, validateAgent } from './validateAgent'

const FIELDS = ['name', 'primaryProvider', 'fallbackProvider', 'systemPrompt']

export function AgentForm({
  agent,
  onSubmit,
  onCancel,
}: {
  agent?: Agent
  onSubmit: (input: AgentInput) => Promise<void>
  onCancel?: () => void
}) {
  const [name, setName] = useState(agent?.name ?? '')
  const [primaryProvider, setPrimary] = useState<Provider>(agent?.primaryProvider ?? 'VendorA')
  const [fallbackProvider, setFallback] = useState<Provider | null>(
    agent ? agent.fallbackProvider : 'VendorB',
  )
  const [systemPrompt, setPrompt] = useState(agent?.systemPrompt ?? '')
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({})
  const [formError, setFormError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const input: AgentInput = { name: name.trim(), primaryProvider, fallbackProvider, systemPrompt }
    const local = validateAgent(input)
    setFieldErrors(local)
    setFormError(null)
    if (Object.keys(local).length) return
    setBusy(true)
    try {
      await onSubmit(input)
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.errors).length) {
        setFieldErrors(err.errors)
        // Messages for fields this form does not show go to the top.
        const other = Object.entries(err.errors).filter(([k]) => !FIELDS.includes(k))
        setFormError(other.length ? new Error(other.flatMap(([, m]) => m).join(' ')) : null)
      } else {
        setFormError(err)
      }
    } finally {
      setBusy(false)
    }
  }

  return (
    <form onSubmit={submit} className="space-y-4" noValidate aria-label={agent ? 'Edit agent' : 'Create agent'}>
      <Field id="agent-name" label="Name" errors={fieldErrors.name} hint={`1-${NAME_MAX} characters`}>
        <Input id="agent-name" name="name" value={name} maxLength={NAME_MAX + 50} invalid={!!fieldErrors.name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        <Field id="agent-primary" label="Primary provider" errors={fieldErrors.primaryProvider}>
          <Select
            id="agent-primary"
            name="primaryProvider"
            value={primaryProvider}
            invalid={!!fieldErrors.primaryProvider}
            onChange={(e) => setPrimary(e.target.value as Provider)}
          >
            {PROVIDERS.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </Select>
        </Field>
        <Field id="agent-fallback" label="Fallback provider" errors={fieldErrors.fallbackProvider}>
          <Select
            id="agent-fallback"
            name="fallbackProvider"
            value={fallbackProvider ?? ''}
            invalid={!!fieldErrors.fallbackProvider}
            onChange={(e) => setFallback((e.target.value || null) as Provider | null)}
          >
            <option value="">None</option>
            {PROVIDERS.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </Select>
        </Field>
      </div>
      <Field id="agent-prompt" label="System prompt" errors={fieldErrors.systemPrompt} hint={`${systemPrompt.length}/${PROMPT_MAX}`}>
        <Textarea
          id="agent-prompt"
          name="systemPrompt"
          rows={5}
          value={systemPrompt}
          invalid={!!fieldErrors.systemPrompt}
          onChange={(e) => setPrompt(e.target.value)}
        />
      </Field>
      {formError != null && <ErrorBox error={formError} />}
      <div className="flex justify-end gap-2">
        {onCancel && (
          <Button variant="secondary" onClick={onCancel}>
            Cancel
          </Button>
        )}
        <Button type="submit" busy={busy}>
          {agent ? 'Save changes' : 'Create agent'}
        </Button>
      </div>
    </form>
  )
}
