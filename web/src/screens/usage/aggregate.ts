import type { UsageReport, UsageRow } from '../../api'
import { addDays, daysInclusive } from '../../lib/dates'

export interface DayPoint {
  date: string
  /** Short label for the axis, e.g. "Nov 27". */
  label: string
  tokensIn: number
  tokensOut: number
  tokens: number
  costUsd: number
  messages: number
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
export const dayLabel = (date: string) => `${MONTHS[Number(date.slice(5, 7)) - 1]} ${Number(date.slice(8, 10))}`

const round6 = (n: number) => Math.round(n * 1e6) / 1e6

/**
 * One point per calendar day from `from` to `to` inclusive, in order: rows for the same date are
 * summed and days the API left out count as zero, so the chart never skips a day.
 */
export function buildDailySeries(byDay: UsageReport['byDay'], from: string, to: string): DayPoint[] {
  const sums = new Map<string, UsageRow>()
  for (const row of byDay) {
    const date = row.date.slice(0, 10)
    const s = sums.get(date) ?? { messages: 0, tokensIn: 0, tokensOut: 0, costUsd: 0 }
    s.messages += row.messages
    s.tokensIn += row.tokensIn
    s.tokensOut += row.tokensOut
    s.costUsd += row.costUsd
    sums.set(date, s)
  }
  const n = Math.max(0, daysInclusive(from, to))
  const out: DayPoint[] = []
  for (let i = 0; i < n; i++) {
    const date = addDays(from, i)
    const s = sums.get(date) ?? { messages: 0, tokensIn: 0, tokensOut: 0, costUsd: 0 }
    out.push({
      date,
      label: dayLabel(date),
      tokensIn: s.tokensIn,
      tokensOut: s.tokensOut,
      tokens: s.tokensIn + s.tokensOut,
      costUsd: round6(s.costUsd),
      messages: s.messages,
    })
  }
  return out
}

/** Totals of a series (a cross-check of the API's totals). */
export function sumSeries(points: DayPoint[]): UsageRow {
  return points.reduce(
    (t, p) => ({
      messages: t.messages + p.messages,
      tokensIn: t.tokensIn + p.tokensIn,
      tokensOut: t.tokensOut + p.tokensOut,
      costUsd: round6(t.costUsd + p.costUsd),
    }),
    { messages: 0, tokensIn: 0, tokensOut: 0, costUsd: 0 },
  )
}

export interface BreakdownRow extends UsageRow {
  key: string
  label: string
  share: number
}

/** Rows sorted by cost (then tokens), with each row's share of the total cost. */
export function breakdown<T extends UsageRow>(rows: T[], keyOf: (r: T) => string, labelOf: (r: T) => string): BreakdownRow[] {
  const totalCost = rows.reduce((s, r) => s + r.costUsd, 0)
  return rows
    .map((r) => ({
      key: keyOf(r),
      label: labelOf(r),
      messages: r.messages,
      tokensIn: r.tokensIn,
      tokensOut: r.tokensOut,
      costUsd: r.costUsd,
      share: totalCost > 0 ? r.costUsd / totalCost : 0,
    }))
    .sort((a, b) => b.costUsd - a.costUsd || b.tokensIn + b.tokensOut - (a.tokensIn + a.tokensOut))
}
