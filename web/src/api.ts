// The one module that talks to the StitchFin API (see shared API.md).
// Same origin, relative URLs; adds the tenant key header; turns problem+json into ApiError.

/** A provider's name as the catalogue (`GET /providers`) spells it, e.g. "VendorA". */
export type Provider = string

/**
 * `simulated`: a built-in vendor with one model; the others are real upstreams, by the API they speak:
 * `openai-compatible` (chat completions), `openai-responses` (OpenAI's Responses API), `anthropic` (Messages API).
 */
export type ProviderKind = 'simulated' | 'openai-compatible' | 'openai-responses' | 'anthropic'

/** One entry of `GET /providers`, in configuration order. */
export interface ProviderInfo {
  name: Provider
  kind: ProviderKind | (string & {})
  inputPer1KTokens: number
  outputPer1KTokens: number
  /** The models an agent may choose; empty means any name the upstream accepts. */
  models: string[]
  /** Used when an agent names no model; null means the agent must name one. */
  defaultModel: string | null
}

export interface Tenant {
  id: string
  name: string
  createdAt: string
}

export interface Agent {
  id: string
  name: string
  primaryProvider: Provider
  /** null: the provider's default model. */
  primaryModel: string | null
  fallbackProvider: Provider | null
  /** null: the fallback provider's default model (always null without a fallback provider). */
  fallbackModel: string | null
  systemPrompt: string
  createdAt: string
  updatedAt: string
}

export type AgentInput = Pick<Agent, 'name' | 'primaryProvider' | 'primaryModel' | 'fallbackProvider' | 'fallbackModel' | 'systemPrompt'>

export interface Session {
  id: string
  agentId: string
  createdAt: string
  lastMessageAt: string | null
  messageCount: number
}

export interface Message {
  id: string
  role: 'user' | 'assistant'
  content: string
  /** `api`: sent through the OpenAI-compatible API rather than the dashboard or voice. */
  channel: 'text' | 'voice' | 'api'
  createdAt: string
  provider?: string
  /** The model that actually answered (null on replies stored before models existed). */
  model?: string | null
  fallbackUsed?: boolean
  finishReason?: string | null
  tokensIn?: number
  tokensOut?: number
  /** True when the provider reported no usage and the gateway counted the tokens itself. */
  usageEstimated?: boolean | null
  costUsd?: number
  latencyMs?: number
  /** The provider attempts behind this reply (assistant messages). */
  attempts?: Attempt[] | null
}

/** A page of a session's transcript: `messages` in the order asked (`asc`, the default: oldest first). */
export interface Transcript {
  sessionId: string
  agentId: string
  messages: Message[]
  /** More messages follow the page's last one, in the page's order: ask again with `after` = its id. */
  hasMore: boolean
}

/** `GET /sessions/{id}/transcript` pages: `limit` 1-200 (default 100), `after` the id of the previous page's last message. */
export interface TranscriptPage {
  limit?: number
  order?: 'asc' | 'desc'
  after?: string
}

/**
 * A page of a newest-first list (`/agents`, `/keys`, `/sessions`): `before` and `beforeId` are the `createdAt` and id
 * of the previous page's last item; a page with fewer than `limit` items is the last.
 */
export interface NewestFirstPage {
  limit?: number
  before?: string
  beforeId?: string
}

/** The most items a page of `/agents` or `/keys` holds, and what a page holds when no limit is asked. */
export const LIST_MAX_LIMIT = 100
/** The most messages a page of a transcript holds. */
export const TRANSCRIPT_MAX_LIMIT = 200

export interface UsageInfo {
  provider: string
  model?: string | null
  usageEstimated?: boolean
  tokensIn: number
  tokensOut: number
  costUsd: number
}

export interface Attempt {
  provider: string
  model?: string | null
  outcome: 'ok' | 'error' | 'timeout' | 'rate_limited' | (string & {})
  /** Why the attempt did not answer, in the gateway's words (when it did not). */
  reason?: string | null
  status: number | null
  latencyMs: number
  /** Stream events the gateway could not read and skipped. */
  skippedEvents?: number | null
}

export interface SendMessageResult {
  userMessage: Message
  assistantMessage: Message
  usage: UsageInfo
  attempts: Attempt[]
}

export interface VoiceResult {
  transcript: string
  reply: Message
  usage: UsageInfo
  audioBase64: string
  audioContentType: string
}

export interface UsageRow {
  messages: number
  tokensIn: number
  tokensOut: number
  costUsd: number
}

export interface UsageReport {
  tenantId: string
  from: string
  to: string
  timezone: string
  totals: UsageRow
  byDay: (UsageRow & { date: string })[]
  byProvider: (UsageRow & { provider: string })[]
  byAgent: (UsageRow & { agentId: string })[]
}

export interface ApiKey {
  id: string
  name: string
  prefix: string
  createdAt: string
  lastUsedAt: string | null
  revokedAt: string | null
}

export interface CreatedApiKey {
  id: string
  name: string
  apiKey: string
  prefix: string
  createdAt: string
}

export interface ProblemDetails {
  type?: string
  title?: string
  status?: number
  detail?: string
  traceId?: string
  errors?: Record<string, string[]>
  attempts?: Attempt[]
  [extra: string]: unknown
}

/** An API failure: an HTTP error (parsed from problem+json when possible) or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number
  readonly title: string
  readonly detail?: string
  readonly type?: string
  readonly traceId?: string
  /** Validation errors keyed by camelCase field name. */
  readonly errors: Record<string, string[]>
  readonly problem: ProblemDetails | null

  constructor(status: number, problem: ProblemDetails | null, fallbackMessage?: string) {
    const title = problem?.title ?? fallbackMessage ?? defaultTitle(status)
    super(problem?.detail ?? title)
    this.name = 'ApiError'
    this.status = status
    this.title = title
    this.detail = problem?.detail
    this.type = problem?.type
    this.traceId = problem?.traceId
    this.errors = normalizeErrors(problem?.errors)
    this.problem = problem
  }

  /** The text to show a person: the problem's detail, else its title. */
  get userMessage(): string {
    return this.detail || this.title
  }

  get isNetworkError(): boolean {
    return this.status === 0
  }
}

function defaultTitle(status: number): string {
  if (status === 0) return 'Could not reach the server'
  if (status === 401) return 'Not signed in'
  if (status === 403) return 'Forbidden'
  if (status === 404) return 'Not found'
  if (status === 409) return 'Conflict'
  if (status === 413) return 'Too large'
  if (status === 415) return 'Unsupported media type'
  if (status === 429) return 'Too many requests'
  if (status >= 500) return 'The server had a problem'
  return `Request failed (${status})`
}

/** camelCase the keys ("Name" -> "name", "$.systemPrompt" -> "systemPrompt") and drop empty lists. */
export function normalizeErrors(errors: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  if (!errors || typeof errors !== 'object') return out
  for (const [rawKey, rawValue] of Object.entries(errors as Record<string, unknown>)) {
    const messages = (Array.isArray(rawValue) ? rawValue : [rawValue]).filter(
      (m): m is string => typeof m === 'string' && m.length > 0,
    )
    if (messages.length === 0) continue
    const trimmed = rawKey.replace(/^\$\.?/, '')
    const key = trimmed ? trimmed.charAt(0).toLowerCase() + trimmed.slice(1) : ''
    out[key] = [...(out[key] ?? []), ...messages]
  }
  return out
}

/** Build an ApiError from a non-2xx Response. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let problem: ProblemDetails | null = null
  let text = ''
  try {
    text = await res.text()
  } catch {
    text = ''
  }
  const contentType = res.headers.get('content-type') ?? ''
  if (text && (contentType.includes('json') || /^\s*\{/.test(text))) {
    try {
      const parsed: unknown = JSON.parse(text)
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) problem = parsed as ProblemDetails
    } catch {
      problem = null
    }
  }
  if (!problem && text && text.length < 300 && !/^\s*</.test(text)) {
    problem = { title: defaultTitle(res.status), detail: text.trim(), status: res.status }
  }
  if (res.status === 429 && problem && !problem.detail) {
    const retryAfter = res.headers.get('retry-after')
    if (retryAfter) problem = { ...problem, detail: `Too many requests; try again in ${retryAfter} s.` }
  }
  return new ApiError(res.status, problem, res.statusText || undefined)
}

// ---------------------------------------------------------------------------
// Key storage and request plumbing

const KEY_STORAGE = 'stitchfin.apiKey'

export function getStoredKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE)
  } catch {
    return null
  }
}

export function storeKey(key: string | null): void {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key)
    else sessionStorage.removeItem(KEY_STORAGE)
  } catch {
    // storage unavailable (private mode): the key lives only in memory for this page
  }
}

type UnauthorizedListener = () => void
const unauthorizedListeners = new Set<UnauthorizedListener>()

/** Called when a signed-in request answers 401 (key revoked or expired). */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener)
  return () => unauthorizedListeners.delete(listener)
}

export interface RequestOptions {
  body?: unknown
  headers?: Record<string, string>
  /** Use this key instead of the stored one (sign-in check). */
  apiKey?: string
  signal?: AbortSignal
}

async function send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers }
  const key = options.apiKey ?? getStoredKey()
  if (key) headers['X-API-Key'] = key
  let body: BodyInit | undefined
  if (options.body instanceof FormData || options.body instanceof Blob) {
    body = options.body
  } else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  let res: Response
  try {
    res = await fetch(path, { method, headers, body, signal: options.signal })
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new ApiError(0, null, 'Could not reach the server. Check your connection and try again.')
  }
  if (!res.ok) {
    const error = await errorFromResponse(res)
    if (res.status === 401 && options.apiKey === undefined) unauthorizedListeners.forEach((l) => l())
    throw error
  }
  return res
}

async function json<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
  const res = await send(method, path, options)
  if (res.status === 204) return undefined as T
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

const enc = encodeURIComponent

function query(params: Record<string, string | number | undefined | null>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`)
  return parts.length ? `?${parts.join('&')}` : ''
}

// ---------------------------------------------------------------------------
// Endpoints

export const api = {
  /** Check a key: 200 with the tenant, 401 if not accepted. */
  me: (apiKey?: string) => json<Tenant>('GET', '/tenants/me', apiKey ? { apiKey } : undefined),

  listProviders: () => json<ProviderInfo[]>('GET', '/providers'),

  listAgents: (page: NewestFirstPage = {}) => json<Agent[]>('GET', `/agents${query({ ...page })}`),
  getAgent: (id: string) => json<Agent>('GET', `/agents/${enc(id)}`),
  createAgent: (input: AgentInput) => json<Agent>('POST', '/agents', { body: input }),
  updateAgent: (id: string, input: AgentInput) => json<Agent>('PUT', `/agents/${enc(id)}`, { body: input }),
  deleteAgent: (id: string) => json<void>('DELETE', `/agents/${enc(id)}`),

  listSessions: (params: NewestFirstPage & { agentId?: string } = {}) =>
    json<Session[]>('GET', `/sessions${query({ limit: 50, ...params })}`),
  getSession: (id: string) => json<Session>('GET', `/sessions/${enc(id)}`),
  createSession: (agentId: string) => json<Session>('POST', '/sessions', { body: { agentId } }),
  getTranscript: (id: string, page: TranscriptPage = {}) => json<Transcript>('GET', `/sessions/${enc(id)}/transcript${query({ ...page })}`),

  sendMessage: (sessionId: string, content: string, idempotencyKey: string) =>
    json<SendMessageResult>('POST', `/sessions/${enc(sessionId)}/messages`, {
      body: { content },
      headers: { 'Idempotency-Key': idempotencyKey },
    }),

  sendVoice: (sessionId: string, wav: Blob, idempotencyKey?: string) => {
    const form = new FormData()
    form.append('audio', wav, 'audio.wav')
    return json<VoiceResult>('POST', `/sessions/${enc(sessionId)}/voice`, {
      body: form,
      headers: { Accept: 'application/json', ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}) },
    })
  },

  usage: (from: string, to: string) => json<UsageReport>('GET', `/usage${query({ from, to })}`),

  listKeys: (page: NewestFirstPage = {}) => json<ApiKey[]>('GET', `/keys${query({ ...page })}`),
  createKey: (name: string) => json<CreatedApiKey>('POST', '/keys', { body: { name } }),
  revokeKey: (id: string) => json<void>('DELETE', `/keys/${enc(id)}`),
}

export type Api = typeof api

/** A message for any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.userMessage
  if (e instanceof Error) return e.message
  return String(e)
}
