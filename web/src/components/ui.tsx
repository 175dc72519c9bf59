import * as Label from '@radix-ui/react-label'
import { AlertTriangle, Inbox, Loader2 } from 'lucide-react'
import { cloneElement, isValidElement, type ButtonHTMLAttributes, type InputHTMLAttributes, type ReactElement, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react'
import { ApiError } from '../api'

const cx = (...c: (string | false | null | undefined)[]) => c.filter(Boolean).join(' ')

type Variant = 'primary' | 'secondary' | 'danger' | 'ghost'
const variants: Record<Variant, string> = {
  primary: 'bg-indigo-600 text-white hover:bg-indigo-500 disabled:bg-indigo-300',
  secondary: 'bg-white text-slate-800 ring-1 ring-slate-300 hover:bg-slate-50 disabled:text-slate-400',
  danger: 'bg-rose-600 text-white hover:bg-rose-500 disabled:bg-rose-300',
  ghost: 'text-slate-600 hover:bg-slate-100 disabled:text-slate-300',
}

export function Button({
  variant = 'primary',
  busy,
  className,
  children,
  disabled,
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant; busy?: boolean }) {
  return (
    <button
      type="button"
      className={cx(
        'inline-flex min-h-9 items-center justify-center gap-1.5 rounded-md px-3 py-1.5 text-sm font-medium transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:cursor-not-allowed',
        variants[variant],
        className,
      )}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
      {...rest}
    >
      {busy && <Loader2 className="size-4 animate-spin" aria-hidden />}
      {children}
    </button>
  )
}

const fieldBase =
  'block w-full rounded-md border-0 bg-white px-3 py-2 text-sm text-slate-900 ring-1 ring-inset placeholder:text-slate-400 focus:ring-2 focus:ring-inset focus:ring-indigo-600 focus:outline-none'

export function Input({ invalid, className, ...rest }: InputHTMLAttributes<HTMLInputElement> & { invalid?: boolean }) {
  return <input className={cx(fieldBase, invalid ? 'ring-rose-500' : 'ring-slate-300', className)} aria-invalid={invalid || undefined} {...rest} />
}

export function Textarea({ invalid, className, ...rest }: TextareaHTMLAttributes<HTMLTextAreaElement> & { invalid?: boolean }) {
  return <textarea className={cx(fieldBase, invalid ? 'ring-rose-500' : 'ring-slate-300', className)} aria-invalid={invalid || undefined} {...rest} />
}

export function Select({ invalid, className, ...rest }: SelectHTMLAttributes<HTMLSelectElement> & { invalid?: boolean }) {
  return <select className={cx(fieldBase, 'pr-8', invalid ? 'ring-rose-500' : 'ring-slate-300', className)} aria-invalid={invalid || undefined} {...rest} />
}

/**
 * A labelled form field with its validation messages underneath. The control (the single child) is linked to its
 * messages, or else to its hint, with aria-describedby.
 */
export function Field({
  id,
  label,
  hint,
  errors,
  children,
}: {
  id: string
  label: string
  hint?: ReactNode
  errors?: string[]
  children: ReactNode
}) {
  const hasErrors = !!errors?.length
  const describedBy = hasErrors ? `${id}-error` : hint ? `${id}-hint` : undefined
  const control =
    describedBy && isValidElement<{ 'aria-describedby'?: string }>(children) && !children.props['aria-describedby']
      ? cloneElement(children as ReactElement<{ 'aria-describedby'?: string }>, { 'aria-describedby': describedBy })
      : children
  return (
    <div className="space-y-1">
      <Label.Root htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </Label.Root>
      {control}
      {hint && !hasErrors && (
        <p id={`${id}-hint`} className="text-xs text-slate-500">
          {hint}
        </p>
      )}
      {hasErrors && (
        <div id={`${id}-error`}>
          {errors!.map((m) => (
            <p key={m} className="text-xs text-rose-600" role="alert" data-field-error={id}>
              {m}
            </p>
          ))}
        </div>
      )}
    </div>
  )
}

export function Card({ className, children }: { className?: string; children: ReactNode }) {
  return <div className={cx('rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200', className)}>{children}</div>
}

export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-4 flex flex-col gap-3 sm:flex-row sm:items-end sm:justify-between">
      <div>
        <h1 className="text-xl font-semibold text-slate-900">{title}</h1>
        {description && <p className="mt-1 text-sm text-slate-500">{description}</p>}
      </div>
      {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
    </div>
  )
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="flex items-center gap-2 py-8 text-sm text-slate-500" role="status">
      <Loader2 className="size-4 animate-spin" aria-hidden />
      {label}
    </div>
  )
}

/** A problem+json (or any) error: its title and detail. */
export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  let title = 'Something went wrong'
  let detail: string | undefined
  let traceId: string | undefined
  if (error instanceof ApiError) {
    title = error.title
    detail = error.detail && error.detail !== error.title ? error.detail : undefined
    traceId = error.traceId
  } else if (error instanceof Error) {
    title = error.message
  } else if (typeof error === 'string') {
    title = error
  }
  return (
    <div className="flex gap-3 rounded-md bg-rose-50 p-3 text-sm text-rose-800 ring-1 ring-rose-200" role="alert" data-testid="error">
      <AlertTriangle className="mt-0.5 size-4 shrink-0" aria-hidden />
      <div className="min-w-0 flex-1">
        <p className="font-medium">{title}</p>
        {detail && <p className="mt-0.5 break-words">{detail}</p>}
        {traceId && <p className="mt-1 text-xs text-rose-600/80">Trace {traceId}</p>}
      </div>
      {onRetry && (
        <Button variant="secondary" onClick={onRetry} className="shrink-0">
          Retry
        </Button>
      )}
    </div>
  )
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="flex flex-col items-center rounded-lg border border-dashed border-slate-300 px-4 py-10 text-center" data-testid="empty">
      <Inbox className="size-8 text-slate-400" aria-hidden />
      <p className="mt-2 text-sm font-medium text-slate-700">{title}</p>
      {children && <div className="mt-2 text-sm text-slate-500">{children}</div>}
    </div>
  )
}

export function Badge({
  tone = 'slate',
  className,
  children,
}: {
  tone?: 'slate' | 'amber' | 'green' | 'rose' | 'indigo'
  className?: string
  children: ReactNode
}) {
  const tones = {
    slate: 'bg-slate-100 text-slate-700',
    amber: 'bg-amber-100 text-amber-800',
    green: 'bg-emerald-100 text-emerald-800',
    rose: 'bg-rose-100 text-rose-800',
    indigo: 'bg-indigo-100 text-indigo-800',
  }
  return <span className={cx('inline-flex items-center rounded px-1.5 py-0.5 text-xs font-medium', tones[tone], className)}>{children}</span>
}

export { cx }
