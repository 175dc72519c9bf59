import { api } from '../api'
import { useAsync } from './useAsync'

export function useAgents() {
  const state = useAsync(() => api.listAgents(), [])
  const nameOf = (id: string) => state.data?.find((a) => a.id === id)?.name
  return { ...state, nameOf }
}
