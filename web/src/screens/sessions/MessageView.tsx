import { Mic } from 'lucide-react'
import type { Message } from '../../api'
import { Badge, cx } from '../../components/ui'
import { formatDateTime, formatInt, formatMs, formatUsd } from '../../lib/format'

export function MessageMeta({ m }: { m: Message }) {
  if (m.role !== 'assistant') return null
  return (
    <div className="mt-2 flex flex-wrap items-center gap-x-3 gap-y-1 text-xs text-slate-500" data-testid="message-meta">
      {m.provider && (
        <Badge tone="indigo" className="max-w-full break-all">
          {m.model ? `${m.provider} · ${m.model}` : m.provider}
        </Badge>
      )}
      {m.fallbackUsed && <Badge tone="amber">fallback</Badge>}
      <span>
        {formatInt(m.tokensIn)} in / {formatInt(m.tokensOut)} out tokens
        {m.usageEstimated && <span title="The provider reported no token counts; StitchFin counted them."> (estimated)</span>}
      </span>
      <span data-testid="message-cost">{formatUsd(m.costUsd)}</span>
      <span>{formatMs(m.latencyMs)}</span>
    </div>
  )
}

export function MessageView({ m }: { m: Message }) {
  const mine = m.role === 'user'
  return (
    <li className={cx('flex', mine ? 'justify-end' : 'justify-start')} data-testid={`message-${m.role}`}>
      <div className={cx('max-w-[90%] rounded-lg px-3 py-2 text-sm sm:max-w-[75%]', mine ? 'bg-indigo-600 text-white' : 'bg-white ring-1 ring-slate-200')}>
        <p className="break-words whitespace-pre-wrap" data-testid="message-content">{m.content}</p>
        <p className={cx('mt-1 flex items-center gap-1 text-[11px]', mine ? 'text-indigo-100' : 'text-slate-400')}>
          {m.channel === 'voice' && <Mic className="size-3" aria-label="voice" />}
          {m.channel === 'api' && <span>via API ·</span>}
          {formatDateTime(m.createdAt)}
        </p>
        <MessageMeta m={m} />
      </div>
    </li>
  )
}
