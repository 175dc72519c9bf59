import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { formatCompactUsd, formatUsd } from '../../lib/format'
import type { DayPoint } from './aggregate'

export function UsageChart({ data }: { data: DayPoint[] }) {
  return (
    <div className="h-72 w-full" data-testid="usage-chart">
      <ResponsiveContainer width="100%" height="100%">
        <ComposedChart data={data} margin={{ top: 8, right: 4, bottom: 0, left: -8 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
          <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} />
          <YAxis yAxisId="tokens" tick={{ fontSize: 11 }} allowDecimals={false} />
          <YAxis yAxisId="cost" orientation="right" tick={{ fontSize: 11 }} tickFormatter={(v: number) => formatCompactUsd(v)} />
          <Tooltip
            formatter={(value, name) => (name === 'Cost' ? formatUsd(Number(value)) : Number(value).toLocaleString('en-US'))}
            labelFormatter={(_, payload) => (payload?.[0]?.payload as DayPoint | undefined)?.date ?? ''}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar yAxisId="tokens" dataKey="tokensIn" name="Tokens in" stackId="t" fill="#818cf8" />
          <Bar yAxisId="tokens" dataKey="tokensOut" name="Tokens out" stackId="t" fill="#4f46e5" />
          <Line yAxisId="cost" dataKey="costUsd" name="Cost" type="monotone" stroke="#f59e0b" strokeWidth={2} dot={false} />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  )
}
