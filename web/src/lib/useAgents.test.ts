import { afterEach, describe, expect, it, vi } from 'vitest'
import { itemId, serveNewestFirst } from '../test/newestFirstList'
import { AGENT_PAGES_FOR_NAMES, listAllAgents } from './useAgents'

afterEach(() => vi.unstubAllGlobals())

const agent = (n: number) => ({ id: itemId(n), name: `agent ${n}`, createdAt: '2026-12-01T12:00:00Z' })

describe('every agent for names and pickers', () => {
  it('follows the pages until one is short', async () => {
    const queries = serveNewestFirst('/agents', 250, agent)
    const agents = await listAllAgents()
    expect(agents.map((a) => a.name)).toEqual(Array.from({ length: 250 }, (_, i) => `agent ${250 - i}`))
    expect(queries.map((q) => q.get('beforeId'))).toEqual([null, itemId(151), itemId(51)])
  })

  it('asks for a bounded number of pages', async () => {
    const queries = serveNewestFirst('/agents', 5000, agent)
    expect(await listAllAgents()).toHaveLength(AGENT_PAGES_FOR_NAMES * 100)
    expect(queries).toHaveLength(AGENT_PAGES_FOR_NAMES)
  })
})
