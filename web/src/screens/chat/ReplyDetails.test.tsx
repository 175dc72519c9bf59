import { render, screen, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import type { SendMessageResult } from '../../api'
import { ReplyDetails } from './ReplyDetails'

const result = (over: { usageEstimated?: boolean; model?: string | null } = {}): SendMessageResult => {
  const attempts = [
    { provider: 'Local', model: 'llama3.1:8b', outcome: 'timeout', reason: 'first_token_timeout', status: null, latencyMs: 5000 },
    { provider: 'Local', model: 'llama3.1:8b', outcome: 'ok', status: 200, latencyMs: 420 },
  ]
  return {
    userMessage: { id: 'u', role: 'user', content: 'hi', channel: 'text', createdAt: '2025-01-01T00:00:00Z' },
    assistantMessage: {
      id: 'a', role: 'assistant', content: 'hello', channel: 'text', createdAt: '2025-01-01T00:00:01Z',
      provider: 'Local', model: over.model ?? 'llama3.1:8b-instruct', fallbackUsed: false, finishReason: 'stop',
      tokensIn: 12, tokensOut: 3, usageEstimated: over.usageEstimated ?? false, costUsd: 0.000002, latencyMs: 5420, attempts,
    },
    usage: { provider: 'Local', model: over.model ?? 'llama3.1:8b-instruct', tokensIn: 12, tokensOut: 3, costUsd: 0.000002, usageEstimated: over.usageEstimated ?? false },
    attempts,
  }
}

describe('ReplyDetails', () => {
  it('shows the model that answered and each attempt with its model and reason', () => {
    render(<ReplyDetails result={result()} />)
    expect(screen.getByTestId('reply-provider')).toHaveTextContent('Local')
    expect(screen.getByTestId('reply-model')).toHaveTextContent('llama3.1:8b-instruct')
    expect(screen.getByTestId('reply-tokens')).toHaveTextContent('12 in / 3 out')
    expect(within(screen.getByTestId('reply-tokens')).queryByText('estimated')).not.toBeInTheDocument()
    const rows = screen.getAllByTestId('attempt-row')
    expect(rows).toHaveLength(2)
    expect(rows[0]).toHaveTextContent('llama3.1:8b')
    expect(rows[0]).toHaveTextContent('no answer in time')
  })

  it('marks tokens the gateway counted as estimated', () => {
    render(<ReplyDetails result={result({ usageEstimated: true })} />)
    expect(within(screen.getByTestId('reply-tokens')).getByText('estimated')).toBeInTheDocument()
  })
})
