import { RefreshCw } from 'lucide-react'
import { lazy, Suspense, useMemo, useState, type FormEvent } from 'react'
import { api } from '../../api'
import { Button, Card, EmptyState, ErrorBox, Input, PageHeader, Spinner } from '../../components/ui'
import { defaultUsageRange, validateRange } from '../../lib/dates'
import { formatInt, formatUsd } from '../../lib/format'
import { useAgents } from '../../lib/useAgents'
import { useAsync } from '../../lib/useAsync'
import { breakdown, buildDailySeries, type BreakdownRow } from './aggregate'

// Recharts is large: load it with the usage screen only.
const UsageChart = lazy(() => import('./UsageChart').then((m) => ({ default: m.UsageChart })))

export function UsagePage() {
  const [range, setRange] = useState(() => defaultUsageRange())
  const [draft, setDraft] = useState(range)
  const [rangeError, setRangeError] = useState<string | null>(null)
  const usage = useAsync(() => api.usage(range.from, range.to), [range.from, range.to])
  const agents = useAgents()

  const series = useMemo(() => (usage.data ? buildDailySeries(usage.data.byDay, usage.data.from ?? range.from, usage.data.to ?? range.to) : []), [usage.data, range])
  const providers = useMemo(() => breakdown(usage.data?.byProvider ?? [], (r) => r.provider, (r) => r.provider), [usage.data])
  const byAgent = useMemo(
    () => breakdown(usage.data?.byAgent ?? [], (r) => r.agentId, (r) => agents.nameOf(r.agentId) ?? `Deleted agent ${r.agentId.slice(0, 8)}`),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [usage.data, agents.data],
  )

  const apply = (e: FormEvent) => {
    e.preventDefault()
    const problem = validateRange(draft.from, draft.to)
    setRangeError(problem)
    if (!problem) {
      if (draft.from === range.from && draft.to === range.to) usage.reload()
      else setRange(draft)
    }
  }

  const totals = usage.data?.totals
  return (
    <div>
      <PageHeader title="Usage" description="Calendar days in America/Chicago. Usage is counted asynchronously and may lag a message by a second or two." />
      <form onSubmit={apply} className="mb-4 flex flex-col gap-2 sm:flex-row sm:items-end" aria-label="Date range">
        <div>
          <label htmlFor="usage-from" className="block text-xs font-medium text-slate-600">From</label>
          <Input id="usage-from" type="date" value={draft.from} max={draft.to} onChange={(e) => setDraft((d) => ({ ...d, from: e.target.value }))} />
        </div>
        <div>
          <label htmlFor="usage-to" className="block text-xs font-medium text-slate-600">To</label>
          <Input id="usage-to" type="date" value={draft.to} min={draft.from} onChange={(e) => setDraft((d) => ({ ...d, to: e.target.value }))} />
        </div>
        <Button type="submit" variant="secondary" busy={usage.loading && !!usage.data}>
          <RefreshCw className="size-4" aria-hidden /> Apply / refresh
        </Button>
      </form>
      {rangeError && <div className="mb-4"><ErrorBox error={rangeError} /></div>}
      {usage.error != null && <ErrorBox error={usage.error} onRetry={usage.reload} />}
      {usage.loading && !usage.data && <Spinner label="Loading usage…" />}
      {usage.data && totals && (
        <div className="space-y-4">
          <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
            <Stat label="Messages" value={formatInt(totals.messages)} testId="total-messages" />
            <Stat label="Tokens in" value={formatInt(totals.tokensIn)} testId="total-tokens-in" />
            <Stat label="Tokens out" value={formatInt(totals.tokensOut)} testId="total-tokens-out" />
            <Stat label="Cost" value={formatUsd(totals.costUsd)} testId="total-cost" />
          </div>
          <Card>
            <h2 className="mb-2 text-sm font-semibold text-slate-900">Tokens and cost per day</h2>
            {totals.messages === 0 && totals.tokensIn + totals.tokensOut === 0 ? (
              <EmptyState title="No usage in this range">Send a message in the chat playground to see it here.</EmptyState>
            ) : (
              <Suspense fallback={<Spinner label="Loading chart…" />}>
                <UsageChart data={series} />
              </Suspense>
            )}
          </Card>
          <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
            <Breakdown title="By provider" rows={providers} testId="by-provider" />
            <Breakdown title="By agent" rows={byAgent} testId="by-agent" />
          </div>
        </div>
      )}
    </div>
  )
}

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <Card>
      <p className="text-xs text-slate-500">{label}</p>
      <p className="mt-1 truncate text-lg font-semibold text-slate-900" data-testid={testId}>{value}</p>
    </Card>
  )
}

function Breakdown({ title, rows, testId }: { title: string; rows: BreakdownRow[]; testId: string }) {
  return (
    <Card>
      <h2 className="mb-2 text-sm font-semibold text-slate-900">{title}</h2>
      {rows.length === 0 ? (
        <p className="text-sm text-slate-500">Nothing in this range.</p>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm" data-testid={testId}>
            <thead className="text-xs text-slate-500">
              <tr>
                <th className="py-1 pr-2 font-medium">Name</th>
                <th className="py-1 pr-2 text-right font-medium">Msgs</th>
                <th className="py-1 pr-2 text-right font-medium">Tokens</th>
                <th className="py-1 text-right font-medium">Cost</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.key} className="border-t border-slate-100">
                  <td className="max-w-40 truncate py-1.5 pr-2">
                    {r.label}
                    <div className="mt-1 h-1 rounded bg-slate-100">
                      <div className="h-1 rounded bg-indigo-500" style={{ width: `${Math.round(r.share * 100)}%` }} />
                    </div>
                  </td>
                  <td className="py-1.5 pr-2 text-right tabular-nums">{formatInt(r.messages)}</td>
                  <td className="py-1.5 pr-2 text-right tabular-nums">{formatInt(r.tokensIn + r.tokensOut)}</td>
                  <td className="py-1.5 text-right tabular-nums">{formatUsd(r.costUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  )
}
