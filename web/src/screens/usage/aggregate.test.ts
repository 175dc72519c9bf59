import { describe, expect, it } from 'vitest'
import { breakdown, buildDailySeries, sumSeries } from './aggregate'

describe('usage aggregation for the chart', () => {
  it('emits one point per day, zero-filling missing days and summing duplicates', () => {
    const series = buildDailySeries(
      [
        { date: '2026-03-09', messages: 2, tokensIn: 10, tokensOut: 90, costUsd: 0.00057 },
        { date: '2026-03-07', messages: 1, tokensIn: 5, tokensOut: 40, costUsd: 0.000255 },
        { date: '2026-03-09', messages: 1, tokensIn: 1, tokensOut: 30, costUsd: 0.000123 },
      ],
      '2026-03-07',
      '2026-03-10',
    )
    expect(series.map((p) => p.date)).toEqual(['2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10'])
    expect(series.map((p) => p.label)).toEqual(['Mar 7', 'Mar 8', 'Mar 9', 'Mar 10'])
    expect(series[1]).toMatchObject({ messages: 0, tokens: 0, costUsd: 0 })
    expect(series[2]).toMatchObject({ messages: 3, tokensIn: 11, tokensOut: 120, tokens: 131, costUsd: 0.000693 })
    expect(sumSeries(series)).toEqual({ messages: 4, tokensIn: 16, tokensOut: 160, costUsd: 0.000948 })
  })

  it('handles a 30-day range across the DST change with 30 points', () => {
    expect(buildDailySeries([], '2026-02-19', '2026-03-20')).toHaveLength(30)
  })

  it('sorts breakdowns by cost with shares', () => {
    const rows = breakdown(
      [
        { provider: 'VendorB', messages: 1, tokensIn: 1, tokensOut: 1, costUsd: 0.001 },
        { provider: 'VendorA', messages: 3, tokensIn: 1, tokensOut: 1, costUsd: 0.003 },
      ],
      (r) => r.provider,
      (r) => r.provider,
    )
    expect(rows.map((r) => [r.label, r.share])).toEqual([
      ['VendorA', 0.75],
      ['VendorB', 0.25],
    ])
  })
})
