import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cursors, FULL_PAGES_TIMEOUT, itemId, sameTime, serveNewestFirst } from '../../test/newestFirstList'
import { KeysPage } from './KeysPage'

afterEach(() => vi.unstubAllGlobals())

const key = (n: number) => ({ id: itemId(n), name: `key ${n}`, prefix: `sfk_${String(n).padStart(12, '0')}`, createdAt: sameTime, lastUsedAt: null, revokedAt: null })

describe('keys page', () => {
  it('loads the next page after the last key by its time and id, and stops when a page is short', async () => {
    const queries = serveNewestFirst('/keys', 130, key)
    render(<KeysPage />)

    await userEvent.click(await screen.findByRole('button', { name: 'Load more keys' }))
    expect(await screen.findByText('key 1')).toBeInTheDocument()

    expect(cursors(queries)).toEqual([['100', null, null], ['100', sameTime, itemId(31)]])
    expect(within(screen.getByRole('list', { name: 'API keys' })).getAllByTestId('key-row')).toHaveLength(130)
    expect(screen.queryByRole('button', { name: 'Load more keys' })).not.toBeInTheDocument()
  }, FULL_PAGES_TIMEOUT)
})
