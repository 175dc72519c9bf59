import { AuthProvider, useAuth } from './lib/auth'
import { APP_BASE, matchPath, navigate, useLocation } from './lib/router'
import { Layout } from './components/Layout'
import { SignInPage } from './screens/signin/SignInPage'
import { AgentsPage } from './screens/agents/AgentsPage'
import { SessionsPage } from './screens/sessions/SessionsPage'
import { TranscriptPage } from './screens/sessions/TranscriptPage'
import { ChatPage } from './screens/chat/ChatPage'
import { VoicePage } from './screens/voice/VoicePage'
import { UsagePage } from './screens/usage/UsagePage'
import { KeysPage } from './screens/keys/KeysPage'
import { EmptyState } from './components/ui'
import { useEffect, type ReactNode } from 'react'

function Routes() {
  const { pathname, search } = useLocation()
  const sessionParam = search.get('session') ?? undefined

  const routes: [string, (p: Record<string, string>) => ReactNode][] = [
    [`${APP_BASE}/agents`, () => <AgentsPage />],
    [`${APP_BASE}/sessions`, () => <SessionsPage agentId={search.get('agentId') ?? undefined} />],
    [`${APP_BASE}/sessions/:id`, (p) => <TranscriptPage sessionId={p.id} />],
    [`${APP_BASE}/chat`, () => <ChatPage sessionId={sessionParam} />],
    [`${APP_BASE}/voice`, () => <VoicePage sessionId={sessionParam} />],
    [`${APP_BASE}/usage`, () => <UsagePage />],
    [`${APP_BASE}/keys`, () => <KeysPage />],
  ]
  for (const [pattern, render] of routes) {
    const params = matchPath(pattern, pathname)
    if (params) return <>{render(params)}</>
  }
  return <NotFound pathname={pathname} />
}

function NotFound({ pathname }: { pathname: string }) {
  const isRoot = pathname === '/' || pathname === APP_BASE || pathname === `${APP_BASE}/` || pathname === '/index.html'
  useEffect(() => {
    if (isRoot) navigate(`${APP_BASE}/agents`, { replace: true })
  }, [isRoot])
  if (isRoot) return null
  return <EmptyState title="Page not found">Nothing lives at {pathname}.</EmptyState>
}

function Shell() {
  const { apiKey } = useAuth()
  if (!apiKey) return <SignInPage />
  return (
    <Layout>
      <Routes />
    </Layout>
  )
}

export default function App() {
  return (
    <AuthProvider>
      <Shell />
    </AuthProvider>
  )
}
