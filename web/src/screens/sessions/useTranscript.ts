import { useCallback, useEffect, useState } from 'react'
import { api, type Message } from '../../api'
import { useAsync } from '../../lib/useAsync'

interface Loaded {
  /** Oldest first, whichever end the pages come from. */
  messages: Message[]
  /** The id the next page goes on after (the last message of the last page), or null when there is no more. */
  after: string | null
}

/**
 * A session's transcript, a page at a time. `oldest-first` starts at the first message and loads later ones on
 * demand (a transcript read from the top); `newest-first` starts at the latest and loads earlier ones (a chat).
 * Either way `messages` is in conversation order.
 */
export function useTranscript(sessionId: string, from: 'oldest-first' | 'newest-first', limit: number) {
  const order = from === 'newest-first' ? 'desc' : 'asc'
  const state = useAsync(async (): Promise<Loaded> => {
    const page = await api.getTranscript(sessionId, { limit, order })
    return { messages: order === 'desc' ? [...page.messages].reverse() : page.messages, after: cursor(page.messages, page.hasMore) }
  }, [sessionId, order, limit])
  const [more, setMore] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null })
  useEffect(() => setMore({ busy: false, error: null }), [sessionId, order, limit])

  const after = state.data?.after ?? null
  const loadMore = async () => {
    if (!after) return
    setMore({ busy: true, error: null })
    try {
      const page = await api.getTranscript(sessionId, { limit, order, after })
      state.setData((prev) => {
        if (!prev) return prev
        const fresh = page.messages.filter((m) => !prev.messages.some((p) => p.id === m.id))
        const messages = order === 'desc' ? [...fresh.reverse(), ...prev.messages] : [...prev.messages, ...fresh]
        return { messages, after: cursor(page.messages, page.hasMore) }
      })
      setMore({ busy: false, error: null })
    } catch (e) {
      setMore({ busy: false, error: e })
    }
  }

  const { setData } = state
  /** Adds messages this page sent (a reply) at the end, once each. */
  const append = useCallback(
    (fresh: Message[]) =>
      setData((prev) => prev && { ...prev, messages: [...prev.messages.filter((m) => !fresh.some((f) => f.id === m.id)), ...fresh] }),
    [setData],
  )

  return {
    messages: state.data?.messages,
    error: state.error,
    loading: state.loading,
    reload: state.reload,
    append,
    hasMore: after != null,
    loadMore,
    loadingMore: more.busy,
    loadMoreError: more.error,
  }
}

function cursor(page: Message[], hasMore: boolean): string | null {
  return hasMore && page.length > 0 ? page[page.length - 1].id : null
}
