// A tiny in-memory implementation of the API.md endpoints the dashboard uses, serving web/dist
// with SPA fallback like the edge does. For checking the page flows without the real system.
//   node e2e/mock-server.mjs            (PORT=4599, ADMIN_KEY=dev-admin-key-change-me)
import { createServer } from 'node:http'
import { randomUUID, randomBytes } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const DIST = process.env.DIST_DIR ?? join(here, '..', 'dist')
const PORT = Number(process.env.PORT ?? 4599)
const ADMIN_KEY = process.env.ADMIN_KEY ?? 'dev-admin-key-change-me'
/** Usage becomes visible this long after a message completes (the real one is asynchronous). */
const USAGE_DELAY_MS = Number(process.env.MOCK_USAGE_DELAY_MS ?? 800)

/** GET /providers: the simulated vendors and an OpenAI-compatible upstream that names no models and has no default. */
const CATALOGUE = [
  { name: 'VendorA', kind: 'simulated', inputPer1KTokens: 0.003, outputPer1KTokens: 0.006, models: ['vendor-a'], defaultModel: 'vendor-a' },
  { name: 'VendorB', kind: 'simulated', inputPer1KTokens: 0.002, outputPer1KTokens: 0.004, models: ['vendor-b'], defaultModel: 'vendor-b' },
  { name: 'Local', kind: 'openai-compatible', inputPer1KTokens: 0.0001, outputPer1KTokens: 0.0002, models: [], defaultModel: null },
]
const providerNamed = (name) => CATALOGUE.find((p) => p.name === name)
/** What the "Local" upstream answers (the e2e script's UPSTREAM_REPLY); otherwise an echo like the vendors'. */
const UPSTREAM_REPLY = process.env.MOCK_UPSTREAM_REPLY ?? process.env.UPSTREAM_REPLY

const tenants = new Map() // id -> tenant
const keys = new Map() // plaintext -> key record
const agents = new Map() // id -> agent (with tenantId)
const sessions = new Map() // id -> session (with tenantId)
const messages = new Map() // sessionId -> [message]
const idempotency = new Map() // tenantId|sessionId|key -> { bodyHash, status, json }
const flakyKeys = new Set() // Idempotency-Keys whose first '#flaky' send failed
const usageEvents = [] // { tenantId, agentId, provider, tokensIn, tokensOut, costUsd, at, visibleAt }

const now = () => new Date().toISOString()
const round6 = (n) => Math.sign(n) * Math.round(Math.abs(n) * 1e6) / 1e6

function send(res, status, body, headers = {}) {
  if (body === undefined) {
    res.writeHead(status, headers)
    return res.end()
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
  res.end(text)
}

function problem(res, status, title, detail, extra = {}) {
  send(res, status, { type: `https://httpstatuses.io/${status}`, title, status, detail, traceId: randomUUID().replaceAll('-', ''), ...extra }, {
    'content-type': 'application/problem+json',
  })
}

const validation = (res, errors) => problem(res, 400, 'One or more validation errors occurred.', 'See errors.', { errors })

async function readBody(req) {
  const chunks = []
  for await (const c of req) chunks.push(c)
  return Buffer.concat(chunks)
}

async function readJson(req, res) {
  const buf = await readBody(req)
  try {
    return buf.length ? JSON.parse(buf.toString('utf8')) : {}
  } catch {
    problem(res, 400, 'Bad Request', 'The body is not valid JSON.')
    return null
  }
}

function issueKey(tenantId, name) {
  const plaintext = `sf_${randomBytes(24).toString('base64url')}`
  const rec = { id: randomUUID(), tenantId, name, prefix: plaintext.slice(0, 10), createdAt: now(), lastUsedAt: null, revokedAt: null }
  keys.set(plaintext, rec)
  return { plaintext, rec }
}

function authenticate(req) {
  let key = req.headers['x-api-key']
  const auth = req.headers.authorization
  if (!key && auth?.startsWith('Bearer ')) key = auth.slice(7)
  const rec = key && keys.get(key)
  if (!rec || rec.revokedAt) return null
  rec.lastUsedAt = now()
  return tenants.get(rec.tenantId)
}

function chicagoDate(iso) {
  const p = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Chicago', year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(iso))
  const g = (t) => p.find((x) => x.type === t).value
  return `${g('year')}-${g('month')}-${g('day')}`
}

const MODEL_MAX = 200
const providerList = () => CATALOGUE.map((p) => `"${p.name}"`).join(', ')

/** The target (provider, effective model) or null after adding its error; mirrors the conversation service's AgentValidator. */
function checkTarget(role, providerName, model, errors) {
  const pf = `${role}Provider`, mf = `${role}Model`
  if (providerName == null) { errors[pf] = [`${pf} is required: one of ${providerList()}.`]; return null }
  const p = providerNamed(providerName)
  if (!p) {
    errors[pf] = [role === 'fallback' ? `fallbackProvider must be null or one of ${providerList()}.` : `${pf} must be one of ${providerList()}.`]
    return null
  }
  // oxlint-disable-next-line no-control-regex
  if (model != null && (typeof model !== 'string' || model.length < 1 || model.length > MODEL_MAX || /[\u0000-\u001f\u007f-\u009f]/.test(model))) {
    errors[mf] = [`${mf} must be null or 1-${MODEL_MAX} characters without control characters.`]
    return null
  }
  const effective = model ?? p.defaultModel
  if (effective == null) { errors[mf] = [`${mf} is required: ${p.name} has no default model.`]; return null }
  if (p.models.length && !p.models.includes(effective)) {
    errors[mf] = [`${mf} must be one of ${p.models.map((m) => `"${m}"`).join(', ')} for ${p.name}.`]
    return null
  }
  return `${p.name}\u0000${effective}`
}

function validateAgent(body) {
  const errors = {}
  if (typeof body.name !== 'string' || body.name.trim().length < 1 || body.name.length > 100) errors.name = ['Name must be 1-100 characters.']
  const primary = checkTarget('primary', body.primaryProvider, body.primaryModel ?? null, errors)
  if (body.fallbackProvider == null) {
    if (body.fallbackModel != null) errors.fallbackModel = ['fallbackModel needs a fallbackProvider.']
  } else {
    const fallback = checkTarget('fallback', body.fallbackProvider, body.fallbackModel ?? null, errors)
    if (fallback && fallback === primary)
      errors[body.fallbackModel == null ? 'fallbackProvider' : 'fallbackModel'] = ['The fallback must differ from the primary: another provider, or another model of the same provider.']
  }
  if (body.systemPrompt != null && (typeof body.systemPrompt !== 'string' || body.systemPrompt.length > 8000)) errors.systemPrompt = ['systemPrompt must be at most 8000 characters.']
  return errors
}

const agentFields = (body) => ({
  name: body.name,
  primaryProvider: body.primaryProvider,
  primaryModel: body.primaryModel ?? null,
  fallbackProvider: body.fallbackProvider ?? null,
  fallbackModel: body.fallbackProvider == null ? null : (body.fallbackModel ?? null),
  systemPrompt: body.systemPrompt ?? '',
})

const publicAgent = ({ tenantId, ...a }) => a
const publicSession = ({ tenantId, ...s }) => s

function complete(tenant, session, content, channel) {
  const agent = agents.get(session.agentId)
  const provider = agent?.primaryProvider ?? 'VendorA'
  const info = providerNamed(provider) ?? CATALOGUE[0]
  const model = agent?.primaryModel ?? info.defaultModel ?? 'unknown'
  const upstream = info.kind !== 'simulated'
  const prompt = `SYSTEM: ${agent?.systemPrompt ?? ''}\nUSER: ${content}`
  const tokensIn = Math.max(1, Math.ceil(prompt.length / 4))
  const tokensOut = 30 + (content.length % 91)
  const costUsd = round6((tokensIn / 1000) * info.inputPer1KTokens + (tokensOut / 1000) * info.outputPer1KTokens)
  const latencyMs = 80
  const at = now()
  const attempts = [{ provider, model, outcome: 'ok', status: 200, latencyMs }]
  // The upstream reports no usage, so the gateway counts the tokens (usageEstimated).
  const usageEstimated = upstream
  const userMessage = { id: randomUUID(), role: 'user', content, channel, createdAt: at }
  const assistantMessage = {
    id: randomUUID(), role: 'assistant',
    content: upstream && UPSTREAM_REPLY !== undefined ? UPSTREAM_REPLY : `[${provider}] ${content.slice(0, 60)} ...`,
    channel, createdAt: now(),
    provider, model, fallbackUsed: false, finishReason: 'stop', tokensIn, tokensOut, usageEstimated, costUsd, latencyMs, attempts,
  }
  const list = messages.get(session.id) ?? []
  list.push(userMessage, assistantMessage)
  messages.set(session.id, list)
  session.messageCount = list.length
  session.lastMessageAt = assistantMessage.createdAt
  usageEvents.push({ tenantId: tenant.id, agentId: session.agentId, provider, tokensIn, tokensOut, costUsd, at, visibleAt: Date.now() + USAGE_DELAY_MS })
  return {
    userMessage, assistantMessage,
    usage: { provider, model, tokensIn, tokensOut, costUsd, usageEstimated },
    attempts,
  }
}

/** A 1 s 440 Hz tone, 16 kHz 16-bit mono. */
function toneWav(seconds = 1, rate = 16000) {
  const n = Math.round(seconds * rate)
  const buf = Buffer.alloc(44 + n * 2)
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + n * 2, 4); buf.write('WAVE', 8); buf.write('fmt ', 12)
  buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22); buf.writeUInt32LE(rate, 24)
  buf.writeUInt32LE(rate * 2, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34); buf.write('data', 36); buf.writeUInt32LE(n * 2, 40)
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 8000), 44 + i * 2)
  return buf
}

function extractAudio(req, body) {
  const type = req.headers['content-type'] ?? ''
  const m = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type)
  if (!type.startsWith('multipart/form-data') || !m) return body
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`)
  let pos = body.indexOf(boundary)
  while (pos >= 0) {
    const next = body.indexOf(boundary, pos + boundary.length)
    if (next < 0) break
    const part = body.subarray(pos + boundary.length + 2, next - 2)
    const split = part.indexOf('\r\n\r\n')
    const headers = part.subarray(0, split).toString('utf8')
    if (/name="audio"/.test(headers)) return part.subarray(split + 4)
    pos = next
  }
  return null
}

/** A newest-first list page as the API pages one: `limit`, then `before` + `beforeId` (the last item's createdAt and id). */
function newestFirstPage(list, url, defaultLimit) {
  const limit = Number(url.searchParams.get('limit') ?? defaultLimit) || defaultLimit
  const before = url.searchParams.get('before')
  const beforeId = url.searchParams.get('beforeId')
  const after = (x) => !before || x.createdAt < before || (beforeId != null && x.createdAt === before && x.id < beforeId)
  return list
    .filter(after)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
    .slice(0, limit)
}

/** A transcript page: `limit` (100), `order` asc|desc, `after` the previous page's last message id; adds hasMore. */
function transcriptPage(all, url) {
  const limit = Number(url.searchParams.get('limit') ?? 100) || 100
  const ordered = url.searchParams.get('order') === 'desc' ? [...all].reverse() : all
  const after = url.searchParams.get('after')
  const start = after ? ordered.findIndex((m) => m.id === after) + 1 : 0
  return { messages: ordered.slice(start, start + limit), hasMore: start + limit < ordered.length }
}

async function api(req, res, url, tenant) {
  const parts = url.pathname.split('/').filter(Boolean)
  const [root, id, sub] = parts
  const m = req.method

  if (root === 'tenants' && parts[1] === 'me' && m === 'GET') return send(res, 200, { id: tenant.id, name: tenant.name, createdAt: tenant.createdAt })

  if (root === 'providers' && !id && m === 'GET') return send(res, 200, CATALOGUE)

  if (root === 'keys') {
    if (!id && m === 'GET') {
      const list = newestFirstPage([...keys.values()].filter((k) => k.tenantId === tenant.id), url, 100)
      return send(res, 200, list.map(({ tenantId, ...k }) => k))
    }
    if (!id && m === 'POST') {
      const body = await readJson(req, res)
      if (!body) return
      if (typeof body.name !== 'string' || !body.name.trim() || body.name.length > 100) return validation(res, { name: ['Name must be 1-100 characters.'] })
      const { plaintext, rec } = issueKey(tenant.id, body.name)
      return send(res, 201, { id: rec.id, name: rec.name, apiKey: plaintext, prefix: rec.prefix, createdAt: rec.createdAt })
    }
    if (id && m === 'DELETE') {
      const rec = [...keys.values()].find((k) => k.id === id && k.tenantId === tenant.id)
      if (!rec) return problem(res, 404, 'Not Found', 'No such key.')
      rec.revokedAt ??= now()
      return send(res, 204)
    }
  }

  if (root === 'agents') {
    const own = id && agents.get(id)?.tenantId === tenant.id ? agents.get(id) : null
    if (!id && m === 'GET') {
      const list = newestFirstPage([...agents.values()].filter((a) => a.tenantId === tenant.id), url, 100)
      return send(res, 200, list.map(publicAgent))
    }
    if (!id && m === 'POST') {
      const body = await readJson(req, res)
      if (!body) return
      const errors = validateAgent(body)
      if (Object.keys(errors).length) return validation(res, errors)
      const at = now()
      const a = { id: randomUUID(), tenantId: tenant.id, ...agentFields(body), createdAt: at, updatedAt: at }
      agents.set(a.id, a)
      return send(res, 201, publicAgent(a))
    }
    if (id && !own) return problem(res, 404, 'Not Found', 'No such agent.')
    if (m === 'GET') return send(res, 200, publicAgent(own))
    if (m === 'PUT') {
      const body = await readJson(req, res)
      if (!body) return
      const errors = validateAgent(body)
      if (Object.keys(errors).length) return validation(res, errors)
      Object.assign(own, { ...agentFields(body), updatedAt: now() })
      return send(res, 200, publicAgent(own))
    }
    if (m === 'DELETE') {
      agents.delete(id)
      return send(res, 204)
    }
  }

  if (root === 'sessions') {
    if (!id && m === 'GET') {
      const agentId = url.searchParams.get('agentId')
      const list = newestFirstPage([...sessions.values()].filter((s) => s.tenantId === tenant.id && (!agentId || s.agentId === agentId)), url, 50)
      return send(res, 200, list.map(publicSession))
    }
    if (!id && m === 'POST') {
      const body = await readJson(req, res)
      if (!body) return
      const agent = agents.get(body.agentId)
      if (!agent || agent.tenantId !== tenant.id) return problem(res, 404, 'Not Found', 'No such agent.')
      const s = { id: randomUUID(), tenantId: tenant.id, agentId: agent.id, createdAt: now(), lastMessageAt: null, messageCount: 0 }
      sessions.set(s.id, s)
      return send(res, 201, publicSession(s))
    }
    const session = sessions.get(id)
    if (!session || session.tenantId !== tenant.id) return problem(res, 404, 'Not Found', 'No such session.')
    if (!sub && m === 'GET') return send(res, 200, publicSession(session))
    if (sub === 'transcript' && m === 'GET') return send(res, 200, { sessionId: session.id, agentId: session.agentId, ...transcriptPage(messages.get(session.id) ?? [], url) })
    if (sub === 'messages' && m === 'POST') {
      const key = req.headers['idempotency-key']
      if (!key || key.length > 255) return validation(res, { 'Idempotency-Key': ['The Idempotency-Key header is required (1-255 characters).'] })
      const raw = (await readBody(req)).toString('utf8')
      let body
      try { body = JSON.parse(raw) } catch { return problem(res, 400, 'Bad Request', 'The body is not valid JSON.') }
      if (typeof body.content !== 'string' || body.content.length < 1 || body.content.length > 16000) return validation(res, { content: ['content must be 1-16000 characters.'] })
      const slot = `${tenant.id}|${session.id}|${key}`
      const stored = idempotency.get(slot)
      if (stored) {
        if (stored.content !== body.content) return problem(res, 422, 'Unprocessable Entity', 'This Idempotency-Key was used with a different body.')
        return send(res, 201, stored.json, { 'Idempotent-Replayed': 'true' })
      }
      // "#flaky": the first try with a key fails (502); only a retry with the SAME key succeeds.
      if (body.content.includes('#flaky') && !flakyKeys.has(key)) {
        flakyKeys.add(key)
        return problem(res, 502, 'Bad Gateway', 'Both providers failed (simulated; retry with the same Idempotency-Key).', { attempts: [{ provider: 'VendorA', model: 'vendor-a', outcome: 'timeout', reason: 'first_token_timeout', status: null, latencyMs: 2000 }, { provider: 'VendorB', model: 'vendor-b', outcome: 'error', reason: 'server_error', status: 500, latencyMs: 90 }] })
      }
      if (body.content.includes('#fail')) {
        return problem(res, 502, 'Bad Gateway', 'Both providers failed.', { attempts: [{ provider: 'VendorA', model: 'vendor-a', outcome: 'error', reason: 'server_error', status: 500, latencyMs: 120 }, { provider: 'VendorB', model: 'vendor-b', outcome: 'rate_limited', reason: 'rate_limited', status: 429, latencyMs: 80 }] })
      }
      const json = JSON.stringify(complete(tenant, session, body.content, 'text'))
      idempotency.set(slot, { content: body.content, json })
      return send(res, 201, json)
    }
    if (sub === 'voice' && m === 'POST') {
      const body = await readBody(req)
      if (body.length > 10 * 1024 * 1024) return problem(res, 413, 'Payload Too Large', 'Audio must be at most 10 MB.')
      const audio = extractAudio(req, body)
      if (!audio || audio.length < 44 || audio.toString('ascii', 0, 4) !== 'RIFF' || audio.toString('ascii', 8, 12) !== 'WAVE')
        return problem(res, 415, 'Unsupported Media Type', 'Audio must be a PCM WAV file.')
      const rate = audio.readUInt32LE(24)
      const seconds = (audio.length - 44) / (rate * audio.readUInt16LE(22) * (audio.readUInt16LE(34) / 8))
      if (seconds > 60) return problem(res, 400, 'Bad Request', 'Audio must be at most 60 seconds long.')
      const transcript = `hello from a ${seconds.toFixed(1)} second clip`
      const r = complete(tenant, session, transcript, 'voice')
      const wav = toneWav(1)
      if ((req.headers.accept ?? '').includes('application/json'))
        return send(res, 200, { transcript, reply: r.assistantMessage, usage: r.usage, audioBase64: wav.toString('base64'), audioContentType: 'audio/wav' })
      res.writeHead(200, { 'content-type': 'audio/wav', 'X-Transcript': encodeURIComponent(transcript), 'X-Reply-Text': encodeURIComponent(r.assistantMessage.content), 'X-Session-Message-Id': r.assistantMessage.id })
      return res.end(wav)
    }
  }

  if (root === 'usage' && m === 'GET') {
    const from = url.searchParams.get('from')
    const to = url.searchParams.get('to')
    const valid = (d) => /^\d{4}-\d{2}-\d{2}$/.test(d ?? '') && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d)
    if (!valid(from) || !valid(to)) return validation(res, { from: ['Use YYYY-MM-DD.'] })
    if (from > to) return problem(res, 400, 'Bad Request', '`from` must not be after `to`.')
    const days = Math.round((Date.parse(to) - Date.parse(from)) / 86400000) + 1
    if (days > 366) return problem(res, 400, 'Bad Request', 'The range can cover at most 366 days.')
    const zero = () => ({ messages: 0, tokensIn: 0, tokensOut: 0, costUsd: 0 })
    const add = (t, e) => { t.messages += 1; t.tokensIn += e.tokensIn; t.tokensOut += e.tokensOut; t.costUsd = round6(t.costUsd + e.costUsd) }
    const totals = zero(), byDay = new Map(), byProvider = new Map(), byAgent = new Map()
    for (let i = 0; i < days; i++) byDay.set(new Date(Date.parse(from) + i * 86400000).toISOString().slice(0, 10), zero())
    for (const e of usageEvents) {
      if (e.tenantId !== tenant.id || e.visibleAt > Date.now()) continue
      const d = chicagoDate(e.at)
      if (!byDay.has(d)) continue
      add(totals, e); add(byDay.get(d), e)
      if (!byProvider.has(e.provider)) byProvider.set(e.provider, zero())
      add(byProvider.get(e.provider), e)
      if (!byAgent.has(e.agentId)) byAgent.set(e.agentId, zero())
      add(byAgent.get(e.agentId), e)
    }
    return send(res, 200, {
      tenantId: tenant.id, from, to, timezone: 'America/Chicago', totals,
      byDay: [...byDay].map(([date, v]) => ({ date, ...v })),
      byProvider: [...byProvider].map(([provider, v]) => ({ provider, ...v })),
      byAgent: [...byAgent].map(([agentId, v]) => ({ agentId, ...v })),
    })
  }

  return problem(res, 405, 'Method Not Allowed', `${m} ${url.pathname} is not supported.`)
}

const API_ROOTS = new Set(['tenants', 'keys', 'agents', 'sessions', 'usage', 'providers', 'health'])
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json', '.png': 'image/png', '.ico': 'image/x-icon', '.wav': 'audio/wav' }

async function serveStatic(req, res, url) {
  const rel = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '')
  let file = join(DIST, rel)
  try {
    if (!file.startsWith(DIST) || !(await stat(file)).isFile()) throw new Error('not a file')
  } catch {
    if (url.pathname.startsWith('/assets/')) return problem(res, 404, 'Not Found', 'No such asset.')
    file = join(DIST, 'index.html') // SPA fallback
  }
  try {
    const data = await readFile(file)
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' })
    res.end(req.method === 'HEAD' ? undefined : data)
  } catch {
    problem(res, 404, 'Not Found', 'web/dist is missing: run `npm run build` first.')
  }
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost')
  const root = url.pathname.split('/')[1]
  try {
    if (!API_ROOTS.has(root)) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return problem(res, 404, 'Not Found', 'No such route.')
      return await serveStatic(req, res, url)
    }
    if (root === 'health') return send(res, 200, { status: 'ok' })
    if (root === 'tenants' && url.pathname === '/tenants' && req.method === 'POST') {
      if (req.headers['x-admin-key'] !== ADMIN_KEY) return problem(res, 401, 'Unauthorized', 'A valid X-Admin-Key is required.')
      const body = await readJson(req, res)
      if (!body) return
      if (typeof body.name !== 'string' || !body.name.trim()) return validation(res, { name: ['Name is required.'] })
      const t = { id: randomUUID(), name: body.name, createdAt: now() }
      tenants.set(t.id, t)
      const { plaintext } = issueKey(t.id, 'default')
      return send(res, 201, { ...t, apiKey: plaintext })
    }
    const tenant = authenticate(req)
    if (!tenant) return problem(res, 401, 'Unauthorized', 'A valid API key is required.')
    await api(req, res, url, tenant)
  } catch (e) {
    console.error(e)
    if (!res.headersSent) problem(res, 500, 'Internal Server Error', String(e))
  }
})

server.listen(PORT, '127.0.0.1', () => console.log(`mock StitchFin API on http://127.0.0.1:${PORT} (dist: ${DIST})`))
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0))
