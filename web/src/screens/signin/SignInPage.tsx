import { KeyRound } from 'lucide-react'
import { useState, type FormEvent } from 'react'
import { useAuth } from '../../lib/auth'
import { Button, ErrorBox, Field, Input } from '../../components/ui'

export function SignInPage() {
  const { signIn, notice } = useAuth()
  const [key, setKey] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await signIn(key)
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="flex min-h-screen items-center justify-center bg-slate-900 p-4">
      <form onSubmit={submit} className="w-full max-w-sm space-y-4 rounded-xl bg-white p-6 shadow-xl" aria-label="Sign in">
        <div>
          <div className="flex items-center gap-2 text-indigo-600">
            <KeyRound className="size-5" aria-hidden />
            <span className="text-sm font-semibold tracking-wide uppercase">StitchFin</span>
          </div>
          <h1 className="mt-2 text-xl font-semibold text-slate-900">Sign in with your API key</h1>
          <p className="mt-1 text-sm text-slate-500">The key stays in this browser tab only (session storage).</p>
        </div>
        {notice && !error && <p className="rounded-md bg-amber-50 p-2 text-sm text-amber-800">{notice}</p>}
        <Field id="api-key" label="Tenant API key">
          <Input
            id="api-key"
            name="apiKey"
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={key}
            onChange={(e) => setKey(e.target.value)}
            placeholder="sk_…"
            required
          />
        </Field>
        {error != null && <ErrorBox error={error} />}
        <Button type="submit" busy={busy} className="w-full" disabled={!key.trim()}>
          Sign in
        </Button>
      </form>
    </div>
  )
}
