export function formatUsd(value: number | undefined | null, digits = 6): string {
  if (value === undefined || value === null || Number.isNaN(value)) return '—'
  return `$${value.toFixed(digits)}`
}

export function formatCompactUsd(value: number): string {
  if (value === 0) return '$0'
  if (Math.abs(value) < 0.01) return `$${value.toFixed(4)}`
  return `$${value.toFixed(2)}`
}

export function formatInt(value: number | undefined | null): string {
  if (value === undefined || value === null) return '—'
  return value.toLocaleString('en-US')
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

export function formatMs(ms: number | undefined | null): string {
  if (ms === undefined || ms === null) return '—'
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`
}

export function shortId(id: string): string {
  return id.slice(0, 8)
}
