import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, errorFromResponse, normalizeErrors, onUnauthorized, storeKey } from './api'

const problem = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json', ...headers } })

afterEach(() => vi.unstubAllGlobals())

describe('errorFromResponse', () => {
  it('parses problem+json into a typed error with camelCase field errors', async () => {
    const e = await errorFromResponse(
      problem(400, {
        type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
        title: 'One or more validation errors occurred.',
        status: 400,
        detail: 'The agent is not valid.',
        traceId: '00-abc-01',
        errors: { Name: ['Name must be 1-100 characters.'], fallbackProvider: ['Must differ from primaryProvider.'], '$.systemPrompt': ['Too long.'] },
      }),
    )
    expect(e).toBeInstanceOf(ApiError)
    expect(e.status).toBe(400)
    expect(e.title).toBe('One or more validation errors occurred.')
    expect(e.detail).toBe('The agent is not valid.')
    expect(e.userMessage).toBe('The agent is not valid.')
    expect(e.traceId).toBe('00-abc-01')
    expect(e.errors).toEqual({
      name: ['Name must be 1-100 characters.'],
      fallbackProvider: ['Must differ from primaryProvider.'],
      systemPrompt: ['Too long.'],
    })
  })

  it('falls back to the title, then a status text, when there is no detail', async () => {
    const e = await errorFromResponse(problem(404, { title: 'Not Found', status: 404 }))
    expect(e.userMessage).toBe('Not Found')
    const empty = await errorFromResponse(new Response('', { status: 503 }))
    expect(empty.status).toBe(503)
    expect(empty.userMessage).toBe('The server had a problem')
  })

  it('ignores an HTML error page body and uses plain text bodies as the detail', async () => {
    const html = await errorFromResponse(new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }))
    expect(html.detail).toBeUndefined()
    const text = await errorFromResponse(new Response('quota exceeded', { status: 429, headers: { 'retry-after': '3' } }))
    expect(text.detail).toBe('quota exceeded')
  })

  it('mentions Retry-After for a 429 problem without detail', async () => {
    const e = await errorFromResponse(problem(429, { title: 'Too Many Requests', status: 429 }, { 'retry-after': '7' }))
    expect(e.userMessage).toContain('7 s')
  })

  it('normalizeErrors drops empty lists and merges keys', () => {
    expect(normalizeErrors({ Name: ['a'], name: ['b'], x: [] })).toEqual({ name: ['a', 'b'] })
    expect(normalizeErrors(null)).toEqual({})
  })
})

describe('request plumbing', () => {
  it('sends the stored key, JSON body and Idempotency-Key, and returns parsed JSON', async () => {
    storeKey('sk_test')
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ ok: 1 }), { status: 201, headers: { 'content-type': 'application/json' } }))
    vi.stubGlobal('fetch', fetchMock)
    await api.sendMessage('s1', 'hi', 'key-1')
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/sessions/s1/messages')
    const h = init.headers as Record<string, string>
    expect(h['X-API-Key']).toBe('sk_test')
    expect(h['Idempotency-Key']).toBe('key-1')
    expect(h['Content-Type']).toBe('application/json')
    expect(init.body).toBe(JSON.stringify({ content: 'hi' }))
  })

  it('throws ApiError, and tells listeners about a 401 on a signed-in call', async () => {
    storeKey('sk_revoked')
    vi.stubGlobal('fetch', vi.fn(async () => problem(401, { title: 'Unauthorized', status: 401 })))
    const listener = vi.fn()
    const off = onUnauthorized(listener)
    await expect(api.listAgents()).rejects.toMatchObject({ status: 401 })
    expect(listener).toHaveBeenCalledTimes(1)
    // The sign-in check passes its own key and must not trigger a sign-out.
    await expect(api.me('sk_other')).rejects.toBeInstanceOf(ApiError)
    expect(listener).toHaveBeenCalledTimes(1)
    off()
  })

  it('turns a network failure into status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch') }))
    const e = await api.listKeys().catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect((e as ApiError).isNetworkError).toBe(true)
  })

  it('builds the usage query and handles 204', async () => {
    const fetchMock = vi.fn(async () => new Response(null, { status: 204 }))
    vi.stubGlobal('fetch', fetchMock)
    await expect(api.revokeKey('k 1')).resolves.toBeUndefined()
    expect((fetchMock.mock.calls[0] as unknown as [string])[0]).toBe('/keys/k%201')
    await api.usage('2026-01-01', '2026-01-30').catch(() => undefined)
    expect((fetchMock.mock.calls[1] as unknown as [string])[0]).toBe('/usage?from=2026-01-01&to=2026-01-30')
  })
})
