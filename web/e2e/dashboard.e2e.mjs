// End-to-end browser test of the dashboard against a running system (or the mock server).
//   EDGE_URL=http://127.0.0.1:8080 ADMIN_KEY=... node e2e/dashboard.e2e.mjs   (ADMIN_KEY defaults to the one run.sh generated)
// Uses playwright-core with Debian's chromium (never downloads a browser). Screenshots go to
// e2e/artifacts/. Exits non-zero on any failure; the last line is "N passed, M failed".
// With UPSTREAM_PROVIDER and UPSTREAM_MODEL set (an OpenAI-compatible provider scripted to answer UPSTREAM_REPLY),
// it also creates an agent on that provider and model through the form and chats with it; UPSTREAM_REPLY_MODEL,
// when set, is the model name the reply must show (otherwise it must match what the API stored).
import { chromium } from 'playwright-core'
import { mkdir, readFile, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const EDGE = (process.env.EDGE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '')
const ADMIN_KEY = process.env.ADMIN_KEY ?? process.env.STITCHFIN_ADMIN_KEY ?? await generatedAdminKey()
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARTIFACTS = join(here, 'artifacts')
const USAGE_WAIT_MS = Number(process.env.USAGE_WAIT_MS ?? 6000)
const REPLY_TIMEOUT_MS = Number(process.env.REPLY_TIMEOUT_MS ?? 45000)
const stamp = Date.now().toString(36)
const UPSTREAM_PROVIDER = process.env.UPSTREAM_PROVIDER || ''
const UPSTREAM_MODEL = process.env.UPSTREAM_MODEL || ''
const UPSTREAM_REPLY = process.env.UPSTREAM_REPLY
const UPSTREAM_REPLY_MODEL = process.env.UPSTREAM_REPLY_MODEL || ''

// The mock server (e2e:mock) sends no security headers; against the real edge the policy must be there.
const IS_EDGE = !process.env.MOCK_SERVER
const cspViolations = []
let passed = 0
let failed = 0
let page
const state = {}

const log = (...a) => console.log(...a)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// Without ADMIN_KEY: the one ../run.sh generated on its first start.
async function generatedAdminKey() {
  const secrets = await readFile(join(here, '..', '..', '.local', 'secrets.env'), 'utf8').catch(() => '')
  return /STITCHFIN_ADMIN_KEY:=([0-9a-f]+)/.exec(secrets)?.[1] ?? ''
}

function assert(cond, message) {
  if (!cond) throw new Error(message)
}

async function shot(name) {
  if (!page) return
  try {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
  } catch (e) {
    log(`   (screenshot ${name} failed: ${e.message})`)
  }
}

/** Run a step; `needs` names earlier results it depends on. */
async function step(name, needs, fn) {
  const missing = needs.filter((k) => state[k] === undefined)
  const started = Date.now()
  try {
    if (missing.length) throw new Error(`skipped: needs ${missing.join(', ')} from an earlier step`)
    await fn()
    passed++
    log(`PASS ${name} (${Date.now() - started} ms)`)
  } catch (e) {
    failed++
    log(`FAIL ${name}: ${e?.message ?? e}`)
    if (!missing.length) await shot(`failure-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`)
  }
}

async function http(method, path, { key, admin, body } = {}) {
  const headers = { accept: 'application/json' }
  if (key) headers['X-API-Key'] = key
  if (admin) headers['X-Admin-Key'] = admin
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(EDGE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  let json
  try { json = text ? JSON.parse(text) : undefined } catch { json = undefined }
  return { status: res.status, json, text }
}

/** A 1.5 s 16 kHz 16-bit mono PCM WAV: a tone, like a short utterance. */
function makeWav(seconds = 1.5, rate = 16000) {
  const n = Math.round(seconds * rate)
  const buf = Buffer.alloc(44 + n * 2)
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + n * 2, 4); buf.write('WAVE', 8); buf.write('fmt ', 12)
  buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22); buf.writeUInt32LE(rate, 24)
  buf.writeUInt32LE(rate * 2, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34); buf.write('data', 36); buf.writeUInt32LE(n * 2, 40)
  for (let i = 0; i < n; i++) {
    const env = Math.min(1, i / 800, (n - i) / 800)
    buf.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 220 * i) / rate) * 9000 * env), 44 + i * 2)
  }
  return buf
}

async function nav(label) {
  // Desktop shows the sidebar; at small widths open the drawer first.
  const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true })
  if (!(await link.first().isVisible())) await page.getByRole('button', { name: 'Open menu' }).click()
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).first().click()
  await page.getByRole('heading', { level: 1 }).first().waitFor()
}

/** Send a chat message; on a failed send press "Retry send" (same Idempotency-Key) up to twice. */
async function sendChat(text) {
  const before = await page.getByTestId('message-assistant').count()
  await page.getByRole('textbox', { name: 'Message' }).fill(text)
  await page.getByRole('button', { name: 'Send' }).click()
  const reply = page.getByTestId('message-assistant').nth(before)
  for (let tries = 0; ; tries++) {
    await reply.or(page.getByTestId('send-failed')).first().waitFor({ timeout: REPLY_TIMEOUT_MS })
    if (await reply.isVisible()) return { reply, retries: tries }
    const why = await page.getByTestId('send-failed').innerText()
    assert(tries < 2, `sending failed ${tries + 1} times: ${why.slice(0, 200)}`)
    log(`   send failed (${why.split('\n')[0]}); retrying with the same Idempotency-Key`)
    await page.getByRole('button', { name: 'Retry send' }).click()
    await page.getByTestId('send-failed').waitFor({ state: 'detached', timeout: REPLY_TIMEOUT_MS }).catch(() => {})
  }
}

async function main() {
  await rm(ARTIFACTS, { recursive: true, force: true })
  await mkdir(ARTIFACTS, { recursive: true })
  log(`Dashboard e2e against ${EDGE}`)

  await step('create tenant via POST /tenants', [], async () => {
    const r = await http('POST', '/tenants', { admin: ADMIN_KEY, body: { name: `E2E dashboard ${stamp}` } })
    assert(r.status === 201, `POST /tenants answered ${r.status}: ${r.text.slice(0, 200)}`)
    assert(typeof r.json?.apiKey === 'string' && r.json.apiKey.length > 0, 'no apiKey in the answer')
    state.tenant = r.json
  })

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } })
    page = await context.newPage()
    page.setDefaultTimeout(15000)
    page.on('pageerror', (e) => log(`   [page error] ${e.message}`))
    page.on('console', (m) => {
      if (m.type() !== 'error') return
      log(`   [console] ${m.text()}`)
      if (m.text().includes('Content Security Policy')) cspViolations.push(m.text())
    })

    await step('sign in: a bad key is refused, the tenant key is accepted', ['tenant'], async () => {
      await page.goto(`${EDGE}/`)
      await page.getByLabel('Tenant API key').fill(`sf_not_a_real_key_${stamp}`)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByText('That API key was not accepted').waitFor()
      await shot('01-signin-bad-key')
      await page.getByLabel('Tenant API key').fill(state.tenant.apiKey)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('heading', { name: 'Agents' }).waitFor()
      await page.getByTestId('tenant-name').first().filter({ hasText: state.tenant.name }).waitFor()
      state.signedIn = true
    })

    await step('agents: the form offers the providers GET /providers lists', ['signedIn'], async () => {
      const catalogue = await http('GET', '/providers', { key: state.tenant.apiKey })
      assert(catalogue.status === 200 && Array.isArray(catalogue.json), `GET /providers answered ${catalogue.status}: ${catalogue.text.slice(0, 200)}`)
      const names = catalogue.json.map((p) => p.name)
      assert(names.includes('VendorA') && names.includes('VendorB'), `the catalogue lacks the simulated vendors: ${names.join(', ')}`)
      await page.getByRole('button', { name: 'New agent' }).click()
      const dialog = page.getByRole('dialog')
      const primary = dialog.getByLabel('Primary provider')
      await primary.waitFor()
      const options = (select) => select.locator('option').evaluateAll((os) => os.map((o) => o.value))
      const listed = await options(primary)
      assert(JSON.stringify(listed) === JSON.stringify(names), `the primary select lists ${listed.join(', ')}; GET /providers has ${names.join(', ')}`)
      const fallbackListed = await options(dialog.getByLabel('Fallback provider'))
      assert(JSON.stringify(fallbackListed) === JSON.stringify(['', ...names]), `the fallback select lists ${fallbackListed.join(', ')}`)
      // A model field appears only for a provider with a choice: none for the simulated vendors.
      for (const p of catalogue.json) {
        await primary.selectOption(p.name)
        const model = dialog.getByLabel('Primary model')
        if (p.kind === 'simulated' || p.models.length === 1) {
          assert((await model.count()) === 0, `${p.name} shows a model field`)
        } else {
          await model.waitFor()
          const tag = await model.evaluate((el) => el.tagName)
          assert(tag === (p.models.length ? 'SELECT' : 'INPUT'), `${p.name}'s model field is a ${tag}`)
        }
      }
      await shot('02a-agent-form-providers')
      await dialog.getByRole('button', { name: 'Cancel' }).click()
      await dialog.waitFor({ state: 'detached' })
      state.catalogue = catalogue.json
    })

    await step('agents: create an agent', ['signedIn'], async () => {
      const name = `E2E agent ${stamp}`
      await page.getByText('No agents yet').waitFor()
      await page.getByRole('button', { name: 'New agent' }).click()
      const dialog = page.getByRole('dialog')
      await dialog.getByLabel('Name').fill(name)
      await dialog.getByLabel('Primary provider').selectOption('VendorA')
      await dialog.getByLabel('Fallback provider').selectOption('VendorB')
      await dialog.getByLabel('System prompt').fill('You are a terse test agent.')
      await dialog.getByRole('button', { name: 'Create agent' }).click()
      await dialog.waitFor({ state: 'detached' })
      await page.getByTestId('agent-row').filter({ hasText: name }).waitFor()
      await shot('02-agents')
      state.agentName = name
    })

    await step('sessions: create a session for the agent', ['agentName'], async () => {
      await nav('Sessions')
      await page.getByText('No sessions yet').waitFor()
      await page.getByLabel('Agent', { exact: true }).selectOption({ label: state.agentName })
      await page.getByRole('button', { name: 'New session' }).click()
      const row = page.getByTestId('session-row').first()
      await row.waitFor()
      state.sessionId = await row.getAttribute('data-session-id')
      assert(state.sessionId, 'the session row has no id')
      await shot('03-sessions')
    })

    await step('agents: edit and delete an agent', ['agentName'], async () => {
      await nav('Agents')
      const name = `E2E temp ${stamp}`
      await page.getByRole('button', { name: 'New agent' }).click()
      let dialog = page.getByRole('dialog')
      await dialog.getByLabel('Name').fill(name)
      await dialog.getByLabel('Fallback provider').selectOption('')
      await dialog.getByRole('button', { name: 'Create agent' }).click()
      await dialog.waitFor({ state: 'detached' })
      await page.getByRole('button', { name: `Edit ${name}` }).click()
      dialog = page.getByRole('dialog')
      await dialog.getByLabel('Name').fill(`${name} renamed`)
      await dialog.getByLabel('Primary provider').selectOption('VendorB')
      await dialog.getByRole('button', { name: 'Save changes' }).click()
      await dialog.waitFor({ state: 'detached' })
      const row = page.getByTestId('agent-row').filter({ hasText: `${name} renamed` })
      await row.getByText('VendorB').waitFor()
      await page.getByRole('button', { name: `Delete ${name} renamed` }).click()
      await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click()
      await row.waitFor({ state: 'detached' })
      const list = await http('GET', '/agents', { key: state.tenant.apiKey })
      assert(list.status === 200 && !list.json.some((a) => a.name.startsWith(name)), 'the deleted agent is still listed')
      assert(list.json.some((a) => a.name === state.agentName), 'the first agent is missing')
    })

    await step('chat: send a message and see the reply with its cost', ['sessionId'], async () => {
      await nav('Sessions')
      await page.getByTestId('session-row').first().getByRole('link', { name: 'Chat' }).click()
      await page.getByRole('heading', { name: 'Chat playground' }).waitFor()
      const { reply, retries } = await sendChat(`Hello from the dashboard e2e ${stamp}`)
      state.chatRetries = retries
      const text = await reply.innerText()
      assert(/\[Vendor[AB]\]/.test(text), `unexpected reply: ${text.slice(0, 120)}`)
      const cost = await page.getByTestId('reply-cost').innerText()
      assert(/^\$\d+\.\d{6}$/.test(cost.trim()) && Number(cost.trim().slice(1)) > 0, `reply cost is "${cost}"`)
      const provider = await page.getByTestId('reply-provider').innerText()
      assert(/Vendor[AB]/.test(provider), `reply provider is "${provider}"`)
      assert((await page.getByTestId('attempt-row').count()) >= 1, 'no attempts shown')
      await shot('04-chat')
      state.chatCost = Number(cost.trim().slice(1))
    })

    await step('chat: a failed send succeeds when retried (same Idempotency-Key)', ['chatCost'], async () => {
      // The mock server fails the first try of a "#flaky" message and accepts only a retry with the same
      // key; a real system normally answers at once (then there is nothing to retry).
      const { reply } = await sendChat(`Second message #flaky ${stamp}`)
      assert(/\[Vendor[AB]\]/.test(await reply.innerText()), 'no reply after the retry')
      assert((await page.getByTestId('send-failed').count()) === 0, 'the failure is still shown')
    })

    if (UPSTREAM_PROVIDER && UPSTREAM_MODEL) {
      await step(`upstream: create an agent on ${UPSTREAM_PROVIDER} with model ${UPSTREAM_MODEL}`, ['signedIn'], async () => {
        await nav('Agents')
        const name = `E2E upstream ${stamp}`
        await page.getByRole('button', { name: 'New agent' }).click()
        const dialog = page.getByRole('dialog')
        await dialog.getByLabel('Name').fill(name)
        await dialog.getByLabel('Primary provider').selectOption(UPSTREAM_PROVIDER)
        const model = dialog.getByLabel('Primary model')
        await model.waitFor()
        if ((await model.evaluate((el) => el.tagName)) === 'SELECT') await model.selectOption(UPSTREAM_MODEL)
        else await model.fill(UPSTREAM_MODEL)
        await dialog.getByLabel('Fallback provider').selectOption('')
        await dialog.getByLabel('System prompt').fill('You are the upstream test agent.')
        await dialog.getByRole('button', { name: 'Create agent' }).click()
        await dialog.waitFor({ state: 'detached' })
        const row = page.getByTestId('agent-row').filter({ hasText: name })
        await row.getByText(`${UPSTREAM_PROVIDER} · ${UPSTREAM_MODEL}`).waitFor()
        await shot('12-upstream-agent')
        const list = await http('GET', '/agents', { key: state.tenant.apiKey })
        const stored = list.json?.find((a) => a.name === name)
        assert(stored, 'the upstream agent is not listed by GET /agents')
        assert(stored.primaryProvider === UPSTREAM_PROVIDER && stored.primaryModel === UPSTREAM_MODEL && stored.fallbackProvider === null,
          `stored as ${stored.primaryProvider}/${stored.primaryModel} -> ${stored.fallbackProvider}`)
        state.upstreamAgent = name
      })

      await step('upstream: chat with it and see the upstream reply and its model', ['upstreamAgent'], async () => {
        await page.getByTestId('agent-row').filter({ hasText: state.upstreamAgent }).getByRole('button', { name: 'Chat' }).click()
        await page.getByRole('heading', { name: 'Chat playground' }).waitFor()
        await page.waitForURL(/[?&]session=/)
        const sessionId = new URL(page.url()).searchParams.get('session')
        const { reply } = await sendChat(`Hello upstream ${stamp}`)
        const content = await reply.getByTestId('message-content').textContent()
        if (UPSTREAM_REPLY !== undefined) assert(content === UPSTREAM_REPLY, `the reply is ${JSON.stringify(content)}, expected ${JSON.stringify(UPSTREAM_REPLY)}`)
        else assert(content.trim().length > 0, 'the reply is empty')
        const provider = (await page.getByTestId('reply-provider').innerText()).trim()
        assert(provider === UPSTREAM_PROVIDER, `reply provider is "${provider}"`)
        const shown = (await page.getByTestId('reply-model').innerText()).trim()
        const transcript = await http('GET', `/sessions/${sessionId}/transcript`, { key: state.tenant.apiKey })
        const answered = transcript.json?.messages?.filter((m) => m.role === 'assistant').at(-1)
        assert(answered?.model, `the transcript's reply names no model: ${transcript.text.slice(0, 300)}`)
        assert(shown === answered.model, `the reply details show model "${shown}", the API stored "${answered.model}"`)
        if (UPSTREAM_REPLY_MODEL) assert(shown === UPSTREAM_REPLY_MODEL, `the reply details show model "${shown}", expected "${UPSTREAM_REPLY_MODEL}"`)
        await reply.getByTestId('message-meta').getByText(`${UPSTREAM_PROVIDER} · ${answered.model}`).waitFor()
        if (answered.usageEstimated) await page.getByTestId('reply-tokens').getByText('estimated', { exact: true }).waitFor()
        await shot('13-upstream-chat')
      })
    }

    await step('usage: the page counts the message (asynchronous, retried)', ['chatCost'], async () => {
      await nav('Usage')
      await page.getByTestId('total-messages').waitFor()
      const deadline = Date.now() + USAGE_WAIT_MS
      let messages = 0
      let cost = 0
      for (;;) {
        await page.getByTestId('total-messages').waitFor()
        messages = Number((await page.getByTestId('total-messages').innerText()).replace(/[^\d]/g, ''))
        cost = Number((await page.getByTestId('total-cost').innerText()).replace(/[^\d.]/g, ''))
        if (messages >= 1 && cost > 0) break
        if (Date.now() > deadline) break
        await sleep(700)
        const refreshed = page.waitForResponse((r) => r.url().includes('/usage?'))
        await page.getByRole('button', { name: 'Apply / refresh' }).click()
        await refreshed
      }
      assert(messages >= 1, `usage shows ${messages} messages after ${USAGE_WAIT_MS} ms`)
      assert(cost > 0, `usage shows cost ${cost}`)
      await page.getByTestId('usage-chart').locator('svg').first().waitFor()
      await page.getByTestId('by-provider').waitFor()
      await page.getByTestId('by-agent').getByText(state.agentName).waitFor()
      await shot('05-usage')
    })

    await step('voice: upload a WAV and get playable audio back', ['sessionId'], async () => {
      await nav('Voice')
      await page.getByLabel('Session', { exact: true }).selectOption(state.sessionId)
      await page.getByTestId('wav-input').setInputFiles({ name: 'e2e-tone.wav', mimeType: 'audio/wav', buffer: makeWav() })
      await page.getByText('e2e-tone.wav').waitFor()
      await page.getByRole('button', { name: 'Send to agent' }).click()
      const audio = page.getByTestId('reply-audio')
      await audio.waitFor({ timeout: REPLY_TIMEOUT_MS })
      const src = await audio.getAttribute('src')
      assert(src?.startsWith('blob:'), `reply audio src is ${src}`)
      const handle = await audio.elementHandle()
      await page.waitForFunction((el) => el.readyState >= 1 && Number.isFinite(el.duration) && el.duration > 0, handle, { timeout: 10000 })
      const duration = await audio.evaluate((el) => el.duration)
      assert(duration > 0, `duration ${duration}`)
      assert((await page.getByTestId('voice-reply').innerText()).trim().length > 0, 'no reply text')
      await shot('06-voice')
    })

    await step('keys: create a key (shown once) and revoke it', ['signedIn'], async () => {
      await nav('API keys')
      const name = `e2e-${stamp}`
      await page.getByRole('button', { name: 'New key' }).click()
      const dialog = page.getByRole('dialog')
      await dialog.getByLabel('Name').fill(name)
      await dialog.getByRole('button', { name: 'Create key' }).click()
      const plaintext = (await dialog.getByTestId('new-key-plaintext').innerText()).trim()
      assert(plaintext.length >= 16, `new key looks wrong: "${plaintext}"`)
      await dialog.getByRole('button', { name: 'Copy key' }).waitFor()
      await shot('07-keys-created')
      const ok = await http('GET', '/tenants/me', { key: plaintext })
      assert(ok.status === 200, `the new key answered ${ok.status} on /tenants/me`)
      await dialog.getByRole('button', { name: 'Done' }).click()
      const row = page.getByTestId('key-row').filter({ hasText: name })
      await row.getByRole('button', { name: 'Revoke' }).click()
      await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke' }).click()
      await row.getByText('revoked', { exact: true }).waitFor()
      await shot('08-keys-revoked')
      let status = 0
      for (const deadline = Date.now() + 4000; Date.now() < deadline; await sleep(300)) {
        status = (await http('GET', '/tenants/me', { key: plaintext })).status
        if (status === 401) break
      }
      assert(status === 401, `the revoked key still answers ${status}`)
    })

    await step('responsive: 375 px wide with the menu drawer', ['signedIn'], async () => {
      await page.setViewportSize({ width: 375, height: 812 })
      await page.goto(`${EDGE}/app/usage`)
      await page.getByTestId('total-messages').waitFor()
      await page.getByTestId('usage-chart').locator('svg').first().waitFor()
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert(overflow <= 1, `page is ${overflow}px wider than the viewport`)
      await shot('09-mobile-usage')
      await page.getByRole('button', { name: 'Open menu' }).click()
      await page.getByRole('dialog').getByRole('link', { name: 'Agents' }).waitFor()
      await shot('10-mobile-menu')
      await page.getByRole('dialog').getByRole('link', { name: 'Agents' }).click()
      await page.getByTestId('agent-row').first().waitFor()
      await shot('11-mobile-agents')
    })

    await step('every page ran under the edge\'s Content-Security-Policy without a violation', ['signedIn'], async () => {
      const response = await page.request.get(`${EDGE}/`)
      const policy = response.headers()['content-security-policy'] ?? ''
      assert(IS_EDGE ? policy.includes("script-src 'self'") : true, `no Content-Security-Policy on the dashboard: ${JSON.stringify(response.headers())}`)
      assert(cspViolations.length === 0, `violations: ${cspViolations.join(' | ')}`)
    })

    await step('sign out clears the key', ['signedIn'], async () => {
      await page.getByRole('button', { name: 'Open menu' }).click()
      await page.getByRole('dialog').getByRole('button', { name: 'Sign out' }).click()
      await page.getByLabel('Tenant API key').waitFor()
      const stored = await page.evaluate(() => sessionStorage.getItem('stitchfin.apiKey'))
      assert(stored === null, 'the key is still in sessionStorage')
    })
  } finally {
    await browser.close()
  }
}

try {
  await main()
} catch (e) {
  failed++
  log(`FAIL setup: ${e?.stack ?? e}`)
}
log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
