import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { FULL_PAGES_TIMEOUT, json } from '../../test/newestFirstList'
import { ChatPage } from '../chat/ChatPage'
import { TranscriptPage } from './TranscriptPage'

afterEach(() => vi.unstubAllGlobals())

// Message n of a long session; every message was written in the same microsecond, so only the order of pages counts.
const message = (n: number) => ({
  id: `0193a1b2-0000-7000-8000-${String(n).padStart(12, '0')}`,
  role: 'user',
  content: `message ${n}`,
  channel: 'text',
  createdAt: '2026-12-01T12:00:00.000456+00:00',
})
const range = (from: number, to: number) => Array.from({ length: Math.abs(to - from) + 1 }, (_, i) => message(from <= to ? from + i : from - i))
const session = { id: 's1', agentId: 'a1', createdAt: '2026-12-01T12:00:00.000456+00:00', lastMessageAt: null, messageCount: 250 }

/** A transcript of 250 messages, served as the API pages it. */
function serve(urls: string[]) {
  vi.stubGlobal('fetch', vi.fn(async (path: string) => {
    urls.push(path)
    const url = new URL(path, 'http://edge')
    if (url.pathname === '/agents') return json([])
    if (url.pathname === '/sessions') return json([session])
    if (url.pathname === '/sessions/s1') return json(session)
    const limit = Number(url.searchParams.get('limit') ?? 100)
    const desc = url.searchParams.get('order') === 'desc'
    const after = url.searchParams.get('after')
    const start = after ? Number(after.slice(-12)) + (desc ? -1 : 1) : desc ? 250 : 1
    const end = desc ? Math.max(1, start - limit + 1) : Math.min(250, start + limit - 1)
    return json({ sessionId: 's1', agentId: 'a1', messages: range(start, end), hasMore: desc ? end > 1 : end < 250 })
  }))
}

const shown = (list: string) => within(screen.getByRole('list', { name: list })).getAllByRole('listitem').map((li) => li.textContent)

describe('transcript page', () => {
  it('shows the first 200 messages and loads the rest after the last one on demand', async () => {
    const urls: string[] = []
    serve(urls)
    render(<TranscriptPage sessionId="s1" />)

    await userEvent.click(await screen.findByRole('button', { name: 'Load more messages' }))
    expect(await screen.findByText('message 250')).toBeInTheDocument()

    const transcripts = urls.filter((u) => u.includes('/transcript')).map((u) => new URL(u, 'http://edge').searchParams)
    expect(transcripts.map((q) => [q.get('limit'), q.get('order'), q.get('after')])).toEqual([
      ['200', 'asc', null],
      ['200', 'asc', message(200).id],
    ])
    const texts = shown('Transcript')
    expect(texts).toHaveLength(250)
    expect(texts[0]).toContain('message 1')
    expect(texts[249]).toContain('message 250')
    expect(screen.queryByRole('button', { name: 'Load more messages' })).not.toBeInTheDocument()
  }, FULL_PAGES_TIMEOUT)
})

describe('chat', () => {
  it('shows the latest messages in order and loads older ones before the oldest on demand', async () => {
    const urls: string[] = []
    serve(urls)
    render(<ChatPage sessionId="s1" />)

    expect(await screen.findByText('message 250')).toBeInTheDocument()
    let texts = shown('Conversation')
    expect(texts).toHaveLength(100)
    expect(texts[0]).toContain('message 151')
    expect(texts[99]).toContain('message 250')

    await userEvent.click(screen.getByRole('button', { name: 'Load older messages' }))
    expect(await screen.findByText('message 51')).toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Load older messages' }))
    expect(await screen.findByText('message 1')).toBeInTheDocument()

    const afters = urls.filter((u) => u.includes('/transcript')).map((u) => new URL(u, 'http://edge').searchParams.get('after'))
    expect(afters).toEqual([null, message(151).id, message(51).id])
    texts = shown('Conversation')
    expect(texts).toHaveLength(250)
    expect(texts.map((t) => Number(/message (\d+)/.exec(t ?? '')?.[1]))).toEqual(range(1, 250).map((_, i) => i + 1))
    expect(screen.queryByRole('button', { name: 'Load older messages' })).not.toBeInTheDocument()
  }, FULL_PAGES_TIMEOUT)
})
