import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import App from '../../App'

afterEach(() => vi.unstubAllGlobals())

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' } })

describe('sign in', () => {
  it('rejects a bad key with a clear message, then signs in and out', async () => {
    const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
      const key = (init?.headers as Record<string, string>)['X-API-Key']
      if (url === '/tenants/me') return key === 'good' ? json(200, { id: 't1', name: 'Acme', createdAt: '2026-01-01T00:00:00Z' }) : json(401, { title: 'Unauthorized', status: 401 })
      if (url.startsWith('/agents?')) return json(200, [])
      return json(404, { title: 'Not Found' })
    })
    vi.stubGlobal('fetch', fetchMock)
    window.history.replaceState(null, '', '/')
    render(<App />)

    await userEvent.type(screen.getByLabelText('Tenant API key'), 'bad')
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }))
    expect(await screen.findByText('That API key was not accepted')).toBeInTheDocument()
    expect(sessionStorage.getItem('stitchfin.apiKey')).toBeNull()

    await userEvent.clear(screen.getByLabelText('Tenant API key'))
    await userEvent.type(screen.getByLabelText('Tenant API key'), 'good')
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }))
    expect(await screen.findByText('No agents yet')).toBeInTheDocument()
    expect(sessionStorage.getItem('stitchfin.apiKey')).toBe('good')
    expect(window.location.pathname).toBe('/app/agents')
    expect(screen.getAllByTestId('tenant-name')[0]).toHaveTextContent('Acme')

    await userEvent.click(screen.getAllByRole('button', { name: 'Sign out' })[0])
    expect(await screen.findByLabelText('Tenant API key')).toBeInTheDocument()
    expect(sessionStorage.getItem('stitchfin.apiKey')).toBeNull()
  })
})
