import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { SessionsPage } from './SessionsPage'

afterEach(() => vi.unstubAllGlobals())

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } })

// Fifty sessions created in one microsecond, as a burst can be: only their ids order them.
const sameTime = '2026-12-01T12:00:00.000456+00:00'
const session = (i: number) => ({
  id: `0193a1b2-0000-7000-8000-${String(i).padStart(12, '0')}`,
  agentId: 'a1',
  createdAt: sameTime,
  lastMessageAt: null,
  messageCount: 0,
})

describe('sessions page', () => {
  it('asks for older sessions after the last one by its time and its id', async () => {
    const firstPage = Array.from({ length: 50 }, (_, i) => session(100 - i))
    const urls: string[] = []
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      urls.push(url)
      if (url.startsWith('/agents')) return json([])
      if (url.startsWith('/sessions') && !url.includes('before=')) return json(firstPage)
      return json([session(50)])
    }))

    render(<SessionsPage />)
    await userEvent.click(await screen.findByRole('button', { name: 'Load older sessions' }))

    const older = new URL(urls.find((u) => u.includes('before='))!, 'http://edge')
    expect(older.searchParams.get('before')).toBe(sameTime)
    expect(older.searchParams.get('beforeId')).toBe(session(51).id)
  })
})
