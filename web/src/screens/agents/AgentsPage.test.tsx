import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cursors, FULL_PAGES_TIMEOUT, itemId, sameTime, serveNewestFirst } from '../../test/newestFirstList'
import { AgentsPage } from './AgentsPage'

afterEach(() => vi.unstubAllGlobals())

const agent = (n: number) => ({
  id: itemId(n), name: `agent ${n}`, primaryProvider: 'VendorA', primaryModel: null, fallbackProvider: null, fallbackModel: null,
  systemPrompt: '', createdAt: sameTime, updatedAt: sameTime,
})

describe('agents page', () => {
  it('loads the next page after the last agent by its time and id, and stops when a page is short', async () => {
    const queries = serveNewestFirst('/agents', 130, agent)
    render(<AgentsPage />)

    await userEvent.click(await screen.findByRole('button', { name: 'Load more agents' }))
    expect(await screen.findByText('agent 1')).toBeInTheDocument()

    expect(cursors(queries)).toEqual([['100', null, null], ['100', sameTime, itemId(31)]])
    expect(screen.getAllByTestId('agent-row')).toHaveLength(130)
    expect(screen.queryByRole('button', { name: 'Load more agents' })).not.toBeInTheDocument()
  }, FULL_PAGES_TIMEOUT)
})
