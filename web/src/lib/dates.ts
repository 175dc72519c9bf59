export const USAGE_TIMEZONE = 'America/Chicago'

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function dateInZone(instant: Date, timeZone = USAGE_TIMEZONE): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(instant)
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? ''
  return `${get('year')}-${get('month')}-${get('day')}`
}

/** Add whole calendar days to a YYYY-MM-DD date (no time zone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number)
  const t = new Date(Date.UTC(y, m - 1, d + days))
  return t.toISOString().slice(0, 10)
}

/** Inclusive day count between two YYYY-MM-DD dates. */
export function daysInclusive(from: string, to: string): number {
  const a = Date.parse(`${from}T00:00:00Z`)
  const b = Date.parse(`${to}T00:00:00Z`)
  return Math.round((b - a) / 86_400_000) + 1
}

export function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false
  const t = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === value
}

/** The last 30 days ending today, as calendar days in America/Chicago. */
export function defaultUsageRange(now: Date = new Date()): { from: string; to: string } {
  const to = dateInZone(now)
  return { from: addDays(to, -29), to }
}

/** Why a range is not acceptable to GET /usage, or null. */
export function validateRange(from: string, to: string): string | null {
  if (!isIsoDate(from) || !isIsoDate(to)) return 'Enter both dates as YYYY-MM-DD.'
  if (from > to) return 'The start date must not be after the end date.'
  if (daysInclusive(from, to) > 366) return 'The range can cover at most 366 days.'
  return null
}
