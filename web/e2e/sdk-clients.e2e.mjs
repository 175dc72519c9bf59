// The npm `openai` and `@anthropic-ai/sdk` clients streaming through the edge against a tenant's agent: one streamed
// OpenAI response (Responses API) and one streamed Anthropic message.
//   EDGE_URL=http://127.0.0.1:8080 API_KEY=<tenant key> MODEL=<agent name> \
//   OPENAI_REPLY='...' ANTHROPIC_REPLY='...' node e2e/sdk-clients.e2e.mjs
// Each *_REPLY is the text the agent's upstream is scripted to answer. Exits non-zero on any failure; the last line
// is "N passed, M failed".
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'

const EDGE = (process.env.EDGE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '')
const API_KEY = process.env.API_KEY
const MODEL = process.env.MODEL
const OPENAI_REPLY = process.env.OPENAI_REPLY
const ANTHROPIC_REPLY = process.env.ANTHROPIC_REPLY

let passed = 0
let failed = 0

function assert(cond, message) {
  if (!cond) throw new Error(message)
}

function assertEqual(actual, expected, what) {
  assert(JSON.stringify(actual) === JSON.stringify(expected), `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
}

async function step(name, fn) {
  const started = Date.now()
  try {
    await fn()
    passed++
    console.log(`PASS ${name} (${Date.now() - started} ms)`)
  } catch (e) {
    failed++
    console.log(`FAIL ${name}: ${e?.stack ?? e}`)
  }
}

await step('openai: a streamed response', async () => {
  const client = new OpenAI({ baseURL: `${EDGE}/v1`, apiKey: API_KEY, maxRetries: 0 })
  const stream = await client.responses.create({ model: MODEL, input: 'Say hello to npm', stream: true })
  const types = []
  let text = ''
  let completed
  for await (const event of stream) {
    types.push(event.type)
    if (event.type === 'response.output_text.delta') text += event.delta
    if (event.type === 'response.completed') completed = event.response
  }
  assertEqual(types.slice(0, 2), ['response.created', 'response.in_progress'], 'first events')
  assertEqual(types.at(-1), 'response.completed', 'last event')
  assert(types.filter((t) => t === 'response.output_text.delta').length > 1, `several text deltas: ${types.join(', ')}`)
  assertEqual(text, OPENAI_REPLY, 'streamed text')
  assert(completed?.id?.startsWith('resp_'), `response id: ${completed?.id}`)
  assertEqual(completed.output_text ?? completed.output?.[0]?.content?.[0]?.text, OPENAI_REPLY, 'completed output')
  assert(completed.usage?.output_tokens > 0, `usage: ${JSON.stringify(completed.usage)}`)
})

await step('anthropic: a streamed message', async () => {
  const client = new Anthropic({ baseURL: EDGE, apiKey: API_KEY, maxRetries: 0 })
  const stream = client.messages.stream({
    model: MODEL,
    max_tokens: 256,
    system: 'Answer briefly.',
    messages: [{ role: 'user', content: 'Say hello to npm' }],
  })
  const types = []
  let text = ''
  for await (const event of stream) {
    types.push(event.type)
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text
  }
  const message = await stream.finalMessage()
  assertEqual(types[0], 'message_start', 'first event')
  assertEqual(types.slice(-2), ['message_delta', 'message_stop'], 'last events')
  assertEqual(text, ANTHROPIC_REPLY, 'streamed text')
  assert(message.id.startsWith('msg_'), `message id: ${message.id}`)
  assertEqual(message.stop_reason, 'end_turn', 'stop reason')
  assertEqual(message.content.map((b) => b.text).join(''), ANTHROPIC_REPLY, 'final message')
  assert(message.usage.output_tokens > 0, `usage: ${JSON.stringify(message.usage)}`)
})

console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
