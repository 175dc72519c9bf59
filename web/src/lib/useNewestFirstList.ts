import { useCallback, useEffect, useState } from 'react'
import type { NewestFirstPage } from '../api'
import { useAsync } from './useAsync'

interface Listed {
  id: string
  createdAt: string
}

interface Loaded<T> {
  items: T[]
  /** Where the next page starts: the last item the server sent (null after a page with fewer than the limit). */
  next: { before: string; beforeId: string } | null
}

function loaded<T extends Listed>(items: T[], page: T[], limit: number): Loaded<T> {
  const last = page[page.length - 1]
  return { items, next: page.length < limit || !last ? null : { before: last.createdAt, beforeId: last.id } }
}

/**
 * A newest-first list (`/agents`, `/keys`, `/sessions`) loaded a page at a time: the first page when `deps` change,
 * the next one on `loadMore`, which goes on from the last item the server sent (its `createdAt` and id), so items added
 * or removed here in the meantime cannot move the cursor.
 */
export function useNewestFirstList<T extends Listed>(loadPage: (page: NewestFirstPage) => Promise<T[]>, limit: number, deps: unknown[]) {
  const state = useAsync(async () => {
    const page = await loadPage({ limit })
    return loaded(page, page, limit)
  }, deps)
  const [more, setMore] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null })
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => setMore({ busy: false, error: null }), deps)

  const next = state.data?.next
  const loadMore = async () => {
    if (!next) return
    setMore({ busy: true, error: null })
    try {
      const page = await loadPage({ limit, ...next })
      state.setData((prev) => prev && loaded([...prev.items, ...page.filter((n) => !prev.items.some((p) => p.id === n.id))], page, limit))
      setMore({ busy: false, error: null })
    } catch (e) {
      setMore({ busy: false, error: e })
    }
  }

  const { setData } = state
  const setItems = useCallback((update: (items: T[]) => T[]) => setData((prev) => prev && { ...prev, items: update(prev.items) }), [setData])

  return {
    items: state.data?.items,
    error: state.error,
    loading: state.loading,
    reload: state.reload,
    setItems,
    hasMore: next != null,
    loadMore,
    loadingMore: more.busy,
    loadMoreError: more.error,
  }
}
