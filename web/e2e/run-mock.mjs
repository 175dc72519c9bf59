// npm run e2e:mock — start the mock API (serving web/dist), run the e2e script against it, stop it.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const PORT = process.env.MOCK_PORT ?? '4599'
const ADMIN_KEY = 'mock-admin-key'
const EDGE_URL = `http://127.0.0.1:${PORT}`
// The mock's OpenAI-compatible provider "Local" answers this text, so the e2e script's upstream steps run too.
const UPSTREAM = { UPSTREAM_PROVIDER: 'Local', UPSTREAM_MODEL: 'llama3.1:8b', UPSTREAM_REPLY: 'Hello from the scripted upstream.\nSecond line.' }

if (!existsSync(join(here, '..', 'dist', 'index.html'))) {
  console.error('web/dist is missing: run `npm run build` first.')
  console.log('0 passed, 1 failed')
  process.exit(1)
}

const server = spawn(process.execPath, [join(here, 'mock-server.mjs')], {
  env: { ...process.env, ...UPSTREAM, PORT, ADMIN_KEY },
  stdio: ['ignore', 'inherit', 'inherit'],
})
const stop = () => server.exitCode === null && server.kill('SIGTERM')
process.on('exit', stop)

let up = false
for (let i = 0; i < 50 && !up; i++) {
  await new Promise((r) => setTimeout(r, 100))
  up = await fetch(`${EDGE_URL}/health`).then((r) => r.ok, () => false)
}
if (!up) {
  console.error(`mock server did not start on ${EDGE_URL}`)
  console.log('0 passed, 1 failed')
  stop()
  process.exit(1)
}

const e2e = spawn(process.execPath, [join(here, 'dashboard.e2e.mjs')], {
  env: { ...process.env, ...UPSTREAM, EDGE_URL, ADMIN_KEY, MOCK_SERVER: '1' },
  stdio: 'inherit',
})
const code = await new Promise((r) => e2e.on('exit', (c) => r(c ?? 1)))
stop()
process.exit(code)
