import { api, LIST_MAX_LIMIT, type Agent } from '../api'
import { useAsync } from './useAsync'

/** Pickers and names of agents load this many pages of agents at most (1,000 agents). */
export const AGENT_PAGES_FOR_NAMES = 10

/** Every agent of the tenant, newest first, following the list's pages up to {@link AGENT_PAGES_FOR_NAMES}. */
export async function listAllAgents(): Promise<Agent[]> {
  const agents: Agent[] = []
  for (let pages = 0; pages < AGENT_PAGES_FOR_NAMES; pages++) {
    const last = agents[agents.length - 1]
    const page = await api.listAgents({ limit: LIST_MAX_LIMIT, before: last?.createdAt, beforeId: last?.id })
    agents.push(...page)
    if (page.length < LIST_MAX_LIMIT) break
  }
  return agents
}

export function useAgents() {
  const state = useAsync(listAllAgents, [])
  const nameOf = (id: string) => state.data?.find((a) => a.id === id)?.name
  return { ...state, nameOf }
}
