import { useLayoutEffect, useRef, useState, type FormEvent } from 'react'
import { api, ApiError, type Agent, type AgentInput, type ProviderInfo } from '../../api'
import { Button, ErrorBox, Field, Input, Select, Spinner, Textarea } from '../../components/ui'
import { useAsync } from '../../lib/useAsync'
import { MODEL_MAX, NAME_MAX, PROMPT_MAX, modelChoice, validateAgent, type ModelChoice } from './validateAgent'

const FIELDS = ['name', 'primaryProvider', 'primaryModel', 'fallbackProvider', 'fallbackModel', 'systemPrompt']

/** Models typed or chosen so far, by provider name: switching provider and back keeps what was there. */
type ModelsByProvider = Record<string, string | null>

/**
 * A new agent starts on the first provider that needs no model typed in (else the first one), falling back to the
 * next such provider, so the form can be saved as it opens.
 */
function defaultTargets(providers: ProviderInfo[]): { primary: string; fallback: string | null } {
  const ready = providers.filter((p) => p.defaultModel !== null)
  const primary = (ready[0] ?? providers[0])?.name ?? ''
  const fallback = ready.find((p) => p.name !== primary)?.name ?? null
  return { primary, fallback }
}

/** What to send for a model: null means "the provider's default". */
function modelToSend(choice: ModelChoice, provider: ProviderInfo | undefined, value: string | null): string | null {
  if (choice === 'text') return value?.trim() || null
  if (choice === 'select') return value || null
  // No field shown: keep an edited agent's model as it is; a single-model provider without a default needs its model named.
  if (value !== null) return value
  return provider && provider.defaultModel === null && provider.models.length === 1 ? provider.models[0] : null
}

function catalogueErrorText(error: unknown): string {
  if (error instanceof ApiError && error.isNetworkError)
    return 'Could not reach the server to load the providers. Check your connection, then try again.'
  return 'The list of providers could not be loaded, so the agent cannot be saved yet. Nothing was saved; try again in a moment.'
}

export function AgentForm({
  agent,
  onSubmit,
  onCancel,
  loadProviders = api.listProviders,
}: {
  agent?: Agent
  onSubmit: (input: AgentInput) => Promise<void>
  onCancel?: () => void
  /** The provider catalogue (GET /providers); replaceable in tests. */
  loadProviders?: () => Promise<ProviderInfo[]>
}) {
  const catalogue = useAsync(loadProviders, [])
  const providers = catalogue.data

  const [name, setName] = useState(agent?.name ?? '')
  // undefined: not chosen yet, use the catalogue's default.
  const [primaryChoice, setPrimaryChoice] = useState<string | undefined>(agent?.primaryProvider)
  const [fallbackChoice, setFallbackChoice] = useState<string | null | undefined>(agent ? agent.fallbackProvider : undefined)
  const [primaryModels, setPrimaryModels] = useState<ModelsByProvider>(agent ? { [agent.primaryProvider]: agent.primaryModel } : {})
  const [fallbackModels, setFallbackModels] = useState<ModelsByProvider>(
    agent?.fallbackProvider ? { [agent.fallbackProvider]: agent.fallbackModel } : {},
  )
  const [systemPrompt, setPrompt] = useState(agent?.systemPrompt ?? '')
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({})
  const [formError, setFormError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const formRef = useRef<HTMLFormElement>(null)
  const [focusRequest, setFocusRequest] = useState(0)

  // Move focus to the first invalid field once its error is on screen.
  useLayoutEffect(() => {
    if (focusRequest) formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus()
  }, [focusRequest])

  const defaults = providers ? defaultTargets(providers) : { primary: '', fallback: null }
  const primaryProvider = primaryChoice ?? defaults.primary
  const fallbackProvider = fallbackChoice === undefined ? defaults.fallback : fallbackChoice
  const find = (n: string | null) => (n ? providers?.find((p) => p.name === n) : undefined)
  const primaryInfo = find(primaryProvider)
  const fallbackInfo = find(fallbackProvider)
  const primaryMode = modelChoice(primaryInfo)
  const fallbackMode = fallbackProvider ? modelChoice(fallbackInfo) : 'none'
  const primaryModel = primaryModels[primaryProvider] ?? null
  const fallbackModel = fallbackProvider ? (fallbackModels[fallbackProvider] ?? null) : null

  /** Errors for a model the form shows no field for belong to its provider's field. */
  const place = (errors: Record<string, string[]>) => {
    const out = { ...errors }
    for (const [role, mode] of [['primary', primaryMode], ['fallback', fallbackMode]] as const) {
      const moved = out[`${role}Model`]
      if (mode === 'none' && moved) {
        out[`${role}Provider`] = [...(out[`${role}Provider`] ?? []), ...moved]
        delete out[`${role}Model`]
      }
    }
    return out
  }

  const clearErrors = (...keys: string[]) =>
    setFieldErrors((prev) => (keys.some((k) => prev[k]) ? Object.fromEntries(Object.entries(prev).filter(([k]) => !keys.includes(k))) : prev))

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!providers) return
    const input: AgentInput = {
      name: name.trim(),
      primaryProvider,
      primaryModel: modelToSend(primaryMode, primaryInfo, primaryModel),
      fallbackProvider,
      fallbackModel: fallbackProvider ? modelToSend(fallbackMode, fallbackInfo, fallbackModel) : null,
      systemPrompt,
    }
    const local = place(validateAgent(input, providers, { fallbackHasModelField: fallbackMode !== 'none' }))
    setFieldErrors(local)
    setFormError(null)
    if (Object.keys(local).length) {
      setFocusRequest((n) => n + 1)
      return
    }
    setBusy(true)
    try {
      await onSubmit(input)
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.errors).length) {
        const placed = place(err.errors)
        setFieldErrors(placed)
        // Messages for fields this form does not show go to the top.
        const other = Object.entries(placed).filter(([k]) => !FIELDS.includes(k))
        setFormError(other.length ? new Error(other.flatMap(([, m]) => m).join(' ')) : null)
        setFocusRequest((n) => n + 1)
      } else {
        setFormError(err)
      }
    } finally {
      setBusy(false)
    }
  }

  const providerOptions = (current: string | null) => {
    const list = providers ?? []
    return (
      <>
        {current && !list.some((p) => p.name === current) && <option value={current}>{current} (not available)</option>}
        {list.map((p) => (
          <option key={p.name} value={p.name}>
            {p.name}
          </option>
        ))}
      </>
    )
  }

  return (
    <form ref={formRef} onSubmit={submit} className="space-y-4" noValidate aria-label={agent ? 'Edit agent' : 'Create agent'}>
      <Field id="agent-name" label="Name" errors={fieldErrors.name} hint={`1-${NAME_MAX} characters`}>
        <Input id="agent-name" name="name" value={name} maxLength={NAME_MAX + 50} invalid={!!fieldErrors.name} onChange={(e) => setName(e.target.value)} />
      </Field>
      {!providers && catalogue.error != null && (
        <ErrorBox error={new Error(catalogueErrorText(catalogue.error))} onRetry={catalogue.reload} />
      )}
      {!providers && catalogue.error == null && <Spinner label="Loading providers…" />}
      {providers && (
        <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
          <div className="space-y-4">
            <Field id="agent-primary" label="Primary provider" errors={fieldErrors.primaryProvider} hint={modelHint(primaryMode, primaryInfo, primaryModel)}>
              <Select
                id="agent-primary"
                name="primaryProvider"
                value={primaryProvider}
                invalid={!!fieldErrors.primaryProvider}
                onChange={(e) => {
                  setPrimaryChoice(e.target.value)
                  clearErrors('primaryProvider', 'primaryModel', 'fallbackProvider', 'fallbackModel')
                }}
              >
                {providerOptions(primaryProvider)}
              </Select>
            </Field>
            <ModelField
              id="agent-primary-model"
              label="Primary model"
              name="primaryModel"
              mode={primaryMode}
              provider={primaryInfo}
              value={primaryModel}
              errors={fieldErrors.primaryModel}
              onChange={(v) => setPrimaryModels((m) => ({ ...m, [primaryProvider]: v }))}
            />
          </div>
          <div className="space-y-4">
            <Field
              id="agent-fallback"
              label="Fallback provider"
              errors={fieldErrors.fallbackProvider}
              hint={fallbackProvider ? modelHint(fallbackMode, fallbackInfo, fallbackModel) : 'Used when the primary fails.'}
            >
              <Select
                id="agent-fallback"
                name="fallbackProvider"
                value={fallbackProvider ?? ''}
                invalid={!!fieldErrors.fallbackProvider}
                onChange={(e) => {
                  setFallbackChoice(e.target.value || null)
                  clearErrors('fallbackProvider', 'fallbackModel')
                }}
              >
                <option value="">None</option>
                {providerOptions(fallbackProvider)}
              </Select>
            </Field>
            {fallbackProvider && (
              <ModelField
                id="agent-fallback-model"
                label="Fallback model"
                name="fallbackModel"
                mode={fallbackMode}
                provider={fallbackInfo}
                value={fallbackModel}
                errors={fieldErrors.fallbackModel}
                onChange={(v) => setFallbackModels((m) => ({ ...m, [fallbackProvider]: v }))}
              />
            )}
          </div>
        </div>
      )}
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
        <Button type="submit" busy={busy} disabled={!providers}>
          {agent ? 'Save changes' : 'Create agent'}
        </Button>
      </div>
    </form>
  )
}

/** Under a provider without a model field: which model it answers with. */
function modelHint(mode: ModelChoice, provider: ProviderInfo | undefined, value: string | null): string | undefined {
  if (mode !== 'none' || !provider) return undefined
  const model = value ?? provider.defaultModel ?? provider.models[0]
  return model ? `Model: ${model}` : undefined
}

function ModelField({
  id,
  label,
  name,
  mode,
  provider,
  value,
  errors,
  onChange,
}: {
  id: string
  label: string
  name: string
  mode: ModelChoice
  provider: ProviderInfo | undefined
  value: string | null
  errors?: string[]
  onChange: (value: string | null) => void
}) {
  if (mode === 'none' || !provider) return null
  const required = provider.defaultModel === null
  if (mode === 'select') {
    const selected = value ?? provider.defaultModel ?? ''
    return (
      <Field id={id} label={label} errors={errors} hint={required ? `${provider.name} has no default model: choose one.` : undefined}>
        <Select id={id} name={name} value={selected} invalid={!!errors?.length} aria-required={required || undefined} onChange={(e) => onChange(e.target.value || null)}>
          {required && (
            <option value="" disabled>
              Choose a model…
            </option>
          )}
          {selected && !provider.models.includes(selected) && <option value={selected}>{selected} (not offered)</option>}
          {provider.models.map((m) => (
            <option key={m} value={m}>
              {m === provider.defaultModel ? `${m} (default)` : m}
            </option>
          ))}
        </Select>
      </Field>
    )
  }
  return (
    <Field
      id={id}
      label={label}
      errors={errors}
      hint={required ? `The model's name as ${provider.name} knows it (required).` : `Leave empty to use ${provider.defaultModel}.`}
    >
      <Input
        id={id}
        name={name}
        value={value ?? ''}
        maxLength={MODEL_MAX + 50}
        placeholder={required ? 'model name, e.g. gpt-4o-mini' : (provider.defaultModel ?? undefined)}
        autoComplete="off"
        spellCheck={false}
        aria-required={required || undefined}
        invalid={!!errors?.length}
        onChange={(e) => onChange(e.target.value)}
      />
    </Field>
  )
}
