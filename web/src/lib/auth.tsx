import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { api, ApiError, getStoredKey, onUnauthorized, storeKey, type Tenant } from '../api'

interface AuthState {
  apiKey: string | null
  tenant: Tenant | null
  /** Why the user was signed out, if not by choice. */
  notice: string | null
  signIn: (key: string) => Promise<void>
  signOut: (notice?: string) => void
}

const AuthContext = createContext<AuthState | null>(null)

export const BAD_KEY_MESSAGE = 'That API key was not accepted'

export function AuthProvider({ children }: { children: ReactNode }) {
  const [apiKey, setApiKey] = useState<string | null>(() => getStoredKey())
  const [tenant, setTenant] = useState<Tenant | null>(null)
  const [notice, setNotice] = useState<string | null>(null)

  const signOut = useCallback((why?: string) => {
    storeKey(null)
    setApiKey(null)
    setTenant(null)
    setNotice(why ?? null)
  }, [])

  const signIn = useCallback(async (key: string) => {
    const trimmed = key.trim()
    if (!trimmed) throw new Error('Enter an API key')
    try {
      const t = await api.me(trimmed)
      storeKey(trimmed)
      setApiKey(trimmed)
      setTenant(t)
      setNotice(null)
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) throw new Error(BAD_KEY_MESSAGE)
      throw e
    }
  }, [])

  // Restore the tenant for a key kept in sessionStorage.
  useEffect(() => {
    if (!apiKey || tenant) return
    let cancelled = false
    api.me(apiKey).then(
      (t) => !cancelled && setTenant(t),
      (e) => {
        if (!cancelled && e instanceof ApiError && e.status === 401) signOut('Your API key is no longer accepted. Sign in again.')
      },
    )
    return () => {
      cancelled = true
    }
  }, [apiKey, tenant, signOut])

  useEffect(() => onUnauthorized(() => signOut('Your API key is no longer accepted. Sign in again.')), [signOut])

  const value = useMemo(() => ({ apiKey, tenant, notice, signIn, signOut }), [apiKey, tenant, notice, signIn, signOut])
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext)
  if (!ctx) throw new Error('useAuth outside AuthProvider')
  return ctx
}
