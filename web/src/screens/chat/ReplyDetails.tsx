import type { ReactNode } from 'react'
import type { Attempt, SendMessageResult } from '../../api'
import { Badge, Card } from '../../components/ui'
import { formatInt, formatMs, formatUsd } from '../../lib/format'

const outcomeTone = (o: string) => (o === 'ok' ? 'green' : o === 'rate_limited' ? 'amber' : 'rose') as 'green' | 'amber' | 'rose'

/** The gateway's reason codes in words. */
const REASONS: Record<string, string> = {
  server_error: 'server error',
  rate_limited: 'rate limited',
  retry_after_too_long: 'asked to wait too long',
  connection_failed: 'could not connect',
  first_token_timeout: 'no answer in time',
  idle_timeout: 'stopped answering',
  deadline: 'ran out of time',
  circuit_open: 'paused after repeated failures',
  context_length_exceeded: 'conversation too long for the model',
  rejected: 'request refused',
  stream_cut: 'answer cut off',
  stream_incomplete: 'answer incomplete',
  stream_error: 'answer failed midway',
  invalid_response: 'unreadable answer',
}

const reasonText = (reason: string) => REASONS[reason] ?? reason.replaceAll('_', ' ')

export function AttemptsTable({ attempts }: { attempts: Attempt[] }) {
  if (!attempts.length) return null
  const showModel = attempts.some((a) => a.model)
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-xs" aria-label="Attempts">
        <thead className="text-slate-500">
          <tr>
            <th className="py-1 pr-2 font-medium">#</th>
            <th className="py-1 pr-2 font-medium">Provider</th>
            {showModel && <th className="py-1 pr-2 font-medium">Model</th>}
            <th className="py-1 pr-2 font-medium">Outcome</th>
            <th className="py-1 pr-2 font-medium">Status</th>
            <th className="py-1 font-medium">Latency</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((a, i) => (
            <tr key={i} className="border-t border-slate-100" data-testid="attempt-row">
              <td className="py-1 pr-2">{i + 1}</td>
              <td className="py-1 pr-2">{a.provider}</td>
              {showModel && <td className="py-1 pr-2">{a.model ?? '—'}</td>}
              <td className="py-1 pr-2">
                <Badge tone={outcomeTone(a.outcome)}>{a.outcome}</Badge>
                {a.reason && <span className="ml-1 text-slate-600">{reasonText(a.reason)}</span>}
              </td>
              <td className="py-1 pr-2">{a.status ?? '—'}</td>
              <td className="py-1">{formatMs(a.latencyMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export function ReplyDetails({ result }: { result: SendMessageResult }) {
  const m = result.assistantMessage
  const estimated = result.usage?.usageEstimated ?? m.usageEstimated ?? false
  const tokens = `${formatInt(result.usage?.tokensIn ?? m.tokensIn)} in / ${formatInt(result.usage?.tokensOut ?? m.tokensOut)} out`
  const stats: [string, ReactNode, string][] = [
    ['Provider', result.usage?.provider ?? m.provider ?? '—', 'reply-provider'],
    ['Model', result.usage?.model ?? m.model ?? '—', 'reply-model'],
    [
      'Tokens',
      <>
        {tokens}
        {estimated && (
          <>
            {' '}
            <Badge tone="amber">estimated</Badge>
            <span className="block text-xs font-normal text-slate-500">The provider reported no token counts; StitchFin counted them.</span>
          </>
        )}
      </>,
      'reply-tokens',
    ],
    ['Cost', formatUsd(result.usage?.costUsd ?? m.costUsd), 'reply-cost'],
    ['Latency', formatMs(m.latencyMs), 'reply-latency'],
  ]
  return (
    <Card className="space-y-3" >
      <div className="flex items-center justify-between">
        <h2 className="text-sm font-semibold text-slate-900">Last reply</h2>
        {m.fallbackUsed ? <Badge tone="amber">Fallback used</Badge> : <Badge tone="green">Primary</Badge>}
      </div>
      <dl className="grid grid-cols-2 gap-2 text-sm" data-testid="reply-details">
        {stats.map(([label, value, id]) => (
          <div key={label} className="min-w-0">
            <dt className="text-xs text-slate-500">{label}</dt>
            <dd className="font-medium break-words text-slate-900" data-testid={id}>
              {value}
            </dd>
          </div>
        ))}
      </dl>
      <div>
        <h3 className="mb-1 text-xs font-medium text-slate-500">Attempts ({result.attempts?.length ?? 0})</h3>
        <AttemptsTable attempts={result.attempts ?? []} />
      </div>
    </Card>
  )
}
