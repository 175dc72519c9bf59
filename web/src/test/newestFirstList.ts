import { vi } from 'vitest'

/** Pages of 100 and more rows are slow to render in jsdom on a busy machine. */
export const FULL_PAGES_TIMEOUT = 20_000

export const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } })

/** Items created in one microsecond, as a burst can be: only their ids order them. */
export const sameTime = '2026-12-01T12:00:00.000456+00:00'
export const itemId = (n: number) => `0193a1b2-0000-7000-8000-${String(n).padStart(12, '0')}`

/**
 * Stubs fetch so that `path` is a newest-first list of `total` items (numbered total..1, as the server orders them) paged
 * by `limit` and `before`/`beforeId`; other paths answer `[]`. Returns the queries `path` was asked with.
 */
export function serveNewestFirst<T>(path: string, total: number, item: (n: number) => T): URLSearchParams[] {
  const queries: URLSearchParams[] = []
  vi.stubGlobal('fetch', vi.fn(async (raw: string) => {
    const url = new URL(raw, 'http://edge')
    if (url.pathname !== path) return json([])
    queries.push(url.searchParams)
    const limit = Number(url.searchParams.get('limit') ?? 100)
    const beforeId = url.searchParams.get('beforeId')
    const from = beforeId ? Number(beforeId.slice(-12)) - 1 : total
    return json(Array.from({ length: Math.max(0, Math.min(limit, from)) }, (_, i) => item(from - i)))
  }))
  return queries
}

/** Each query's limit, before and beforeId. */
export const cursors = (queries: URLSearchParams[]) => queries.map((q) => [q.get('limit'), q.get('before'), q.get('beforeId')])
