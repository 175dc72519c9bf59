import { describe, expect, it } from 'vitest'
import { addDays, dateInZone, daysInclusive, defaultUsageRange, validateRange } from './dates'

describe('defaultUsageRange (America/Chicago)', () => {
  it('is the last 30 days ending today in Chicago', () => {
    const r = defaultUsageRange(new Date('2026-11-27T22:30:00Z')) // 16:30 CST
    expect(r).toEqual({ from: '2026-10-29', to: '2026-11-27' })
    expect(daysInclusive(r.from, r.to)).toBe(30)
  })

  it('uses the Chicago date, not the UTC date, late in the evening', () => {
    // 03:30 UTC on Nov 28 is still 21:30 on Nov 27 in Chicago (CST, UTC-6).
    expect(defaultUsageRange(new Date('2026-11-28T03:30:00Z')).to).toBe('2026-11-27')
    // In summer (CDT, UTC-5): 04:59 UTC Jul 5 is 23:59 Jul 4; 05:00 UTC is midnight Jul 5.
    expect(dateInZone(new Date('2026-07-05T04:59:00Z'))).toBe('2026-07-04')
    expect(dateInZone(new Date('2026-07-05T05:00:00Z'))).toBe('2026-07-05')
  })

  it('counts calendar days across DST changes and month/year ends', () => {
    expect(defaultUsageRange(new Date('2026-03-20T12:00:00Z'))).toEqual({ from: '2026-02-19', to: '2026-03-20' })
    expect(defaultUsageRange(new Date('2027-01-10T12:00:00Z'))).toEqual({ from: '2026-12-12', to: '2027-01-10' })
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29')
  })

  it('validates ranges like the API', () => {
    expect(validateRange('2026-01-01', '2026-01-01')).toBeNull()
    expect(validateRange('2026-01-02', '2026-01-01')).toMatch(/after/)
    expect(validateRange('2025-01-01', '2026-01-02')).toMatch(/366/)
    expect(validateRange('2026-02-30', '2026-03-01')).toMatch(/YYYY-MM-DD/)
  })
})
