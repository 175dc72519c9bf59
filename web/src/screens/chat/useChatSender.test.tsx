import { act, renderHook } from '@testing-library/react'
import { describe, expect, it, vi } from 'vitest'
import { ApiError, type SendMessageResult } from '../../api'
import { keyForSend, useChatSender } from './useChatSender'

const ok = { userMessage: { id: 'u' }, assistantMessage: { id: 'a' }, usage: {}, attempts: [] } as unknown as SendMessageResult

function setup(responses: (() => Promise<SendMessageResult>)[]) {
  let n = 0
  const makeKey = vi.fn(() => `key-${++n}`)
  const sendFn = vi.fn((_s: string, _c: string, _k: string) => responses.shift()!())
  const hook = renderHook(() => useChatSender('session-1', sendFn, makeKey))
  return { hook, sendFn, makeKey }
}

describe('idempotency keys', () => {
  it('uses a fresh key per send', async () => {
    const { hook, sendFn } = setup([async () => ok, async () => ok])
    await act(() => hook.result.current.send('hello'))
    await act(() => hook.result.current.send('hello'))
    expect(sendFn.mock.calls.map((c) => c[2])).toEqual(['key-1', 'key-2'])
  })

  it('reuses the key when the same send is retried after a failure', async () => {
    const { hook, sendFn } = setup([
      async () => { throw new ApiError(502, { title: 'Bad Gateway', detail: 'Both providers failed' }) },
      async () => { throw new ApiError(0, null) },
      async () => ok,
      async () => ok,
    ])
    await act(() => hook.result.current.send('hello'))
    expect(hook.result.current.failed).toMatchObject({ content: 'hello', key: 'key-1' })
    await act(() => hook.result.current.retry())
    await act(() => hook.result.current.send('hello')) // pressing Send again with the same text is a retry too
    expect(hook.result.current.failed).toBeNull()
    await act(() => hook.result.current.send('hello')) // after success: a new send
    expect(sendFn.mock.calls.map((c) => [c[1], c[2]])).toEqual([
      ['hello', 'key-1'],
      ['hello', 'key-1'],
      ['hello', 'key-1'],
      ['hello', 'key-2'],
    ])
  })

  it('uses a new key when the text changed after a failure', async () => {
    const { hook, sendFn } = setup([async () => { throw new ApiError(500, null) }, async () => ok])
    await act(() => hook.result.current.send('helo'))
    await act(() => hook.result.current.send('hello'))
    expect(sendFn.mock.calls.map((c) => c[2])).toEqual(['key-1', 'key-2'])
  })

  it('keyForSend defaults to crypto.randomUUID', () => {
    const k = keyForSend('x', null)
    expect(k).toMatch(/^[0-9a-f-]{36}$/)
    expect(keyForSend('x', { content: 'x', key: k })).toBe(k)
    expect(keyForSend('y', { content: 'x', key: k })).not.toBe(k)
  })
})
