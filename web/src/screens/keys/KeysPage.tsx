import { Check, Copy, Plus } from 'lucide-react'
import { useState, type FormEvent } from 'react'
import { api, LIST_MAX_LIMIT, type CreatedApiKey } from '../../api'
import { ConfirmDialog, Modal } from '../../components/Modal'
import { Badge, Button, EmptyState, ErrorBox, Field, Input, PageHeader, Spinner } from '../../components/ui'
import { formatDateTime } from '../../lib/format'
import { useNewestFirstList } from '../../lib/useNewestFirstList'

export function KeysPage() {
  const keys = useNewestFirstList(api.listKeys, LIST_MAX_LIMIT, [])
  const [creating, setCreating] = useState(false)
  const [created, setCreated] = useState<CreatedApiKey | null>(null)

  return (
    <div>
      <PageHeader
        title="API keys"
        description="Keys for this tenant. A key's secret is shown once, when it is created."
        actions={
          <Button onClick={() => { setCreated(null); setCreating(true) }}>
            <Plus className="size-4" aria-hidden /> New key
          </Button>
        }
      />
      {keys.error != null && <ErrorBox error={keys.error} onRetry={keys.reload} />}
      {keys.loading && !keys.items && <Spinner label="Loading keys…" />}
      {keys.items && keys.items.length === 0 && <EmptyState title="No keys" />}
      {keys.items && keys.items.length > 0 && (
        <ul className="divide-y divide-slate-200 overflow-hidden rounded-lg bg-white ring-1 ring-slate-200" aria-label="API keys">
          {keys.items.map((k) => (
            <li key={k.id} className="flex flex-col gap-2 p-3 sm:flex-row sm:items-center sm:justify-between" data-testid="key-row" data-key-name={k.name}>
              <div className="min-w-0">
                <p className="flex items-center gap-2 font-medium text-slate-900">
                  <span className="truncate">{k.name}</span>
                  {k.revokedAt ? <Badge tone="rose">revoked</Badge> : <Badge tone="green">active</Badge>}
                </p>
                <p className="text-xs text-slate-500">
                  <code className="rounded bg-slate-100 px-1">{k.prefix}…</code> · created {formatDateTime(k.createdAt)} · last used {formatDateTime(k.lastUsedAt)}
                  {k.revokedAt && ` · revoked ${formatDateTime(k.revokedAt)}`}
                </p>
              </div>
              {!k.revokedAt && (
                <ConfirmDialog
                  title={`Revoke ${k.name}?`}
                  description="Requests with this key are refused within a few seconds. If it is the key you signed in with, you will be signed out."
                  confirmLabel="Revoke"
                  onConfirm={async () => {
                    await api.revokeKey(k.id)
                    // Marked here rather than reloaded, which would drop the pages loaded after the first.
                    keys.setItems((list) => list.map((x) => (x.id === k.id ? { ...x, revokedAt: new Date().toISOString() } : x)))
                  }}
                  trigger={<Button variant="secondary" className="text-rose-700">Revoke</Button>}
                />
              )}
            </li>
          ))}
        </ul>
      )}
      {keys.loadMoreError != null && <div className="mt-3"><ErrorBox error={keys.loadMoreError} /></div>}
      {keys.items && keys.hasMore && (
        <div className="mt-3 flex justify-center">
          <Button variant="secondary" busy={keys.loadingMore} onClick={keys.loadMore}>Load more keys</Button>
        </div>
      )}
      <Modal open={creating} onOpenChange={setCreating} title={created ? 'Copy your new key' : 'New API key'}>
        {created ? (
          <ShowOnce created={created} onDone={() => setCreating(false)} />
        ) : (
          <CreateKeyForm
            onCreated={(c) => {
              setCreated(c)
              keys.setItems((list) => [{ id: c.id, name: c.name, prefix: c.prefix, createdAt: c.createdAt, lastUsedAt: null, revokedAt: null }, ...list])
            }}
          />
        )}
      </Modal>
    </div>
  )
}

function CreateKeyForm({ onCreated }: { onCreated: (c: CreatedApiKey) => void }) {
  const [name, setName] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({})
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!name.trim()) {
      setFieldErrors({ name: ['Name is required.'] })
      return
    }
    setBusy(true)
    setError(null)
    setFieldErrors({})
    try {
      onCreated(await api.createKey(name.trim()))
    } catch (err) {
      const errs = (err as { errors?: Record<string, string[]> }).errors
      if (errs && Object.keys(errs).length) setFieldErrors(errs)
      else setError(err)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form onSubmit={submit} className="space-y-4" noValidate aria-label="Create key">
      <Field id="key-name" label="Name" errors={fieldErrors.name} hint="For example: ci, staging">
        <Input id="key-name" value={name} onChange={(e) => setName(e.target.value)} invalid={!!fieldErrors.name} autoFocus />
      </Field>
      {error != null && <ErrorBox error={error} />}
      <div className="flex justify-end">
        <Button type="submit" busy={busy}>Create key</Button>
      </div>
    </form>
  )
}

function ShowOnce({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no')
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.apiKey)
      setCopied('yes')
    } catch {
      setCopied('failed')
    }
  }
  return (
    <div className="space-y-4">
      <p className="text-sm text-amber-800">This is the only time the key is shown. Store it somewhere safe.</p>
      <div className="flex items-stretch gap-2">
        <code className="min-w-0 flex-1 rounded-md bg-slate-100 p-2 text-sm break-all select-all" data-testid="new-key-plaintext">
          {created.apiKey}
        </code>
        <Button variant="secondary" onClick={copy} aria-label="Copy key">
          {copied === 'yes' ? <Check className="size-4" aria-hidden /> : <Copy className="size-4" aria-hidden />}
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </Button>
      </div>
      {copied === 'failed' && <p className="text-xs text-rose-600">Copying is blocked here; select the key and copy it by hand.</p>}
      <div className="flex justify-end">
        <Button onClick={onDone}>Done</Button>
      </div>
    </div>
  )
}
