// Remove the informational "funding" URLs from package-lock.json so it holds registry data only
// (this machine's npm omits "resolved"; integrity hashes stay). Run after changing dependencies:
//   npm run lock:clean
import { readFileSync, writeFileSync } from 'node:fs'

const path = new URL('../package-lock.json', import.meta.url)
const lock = JSON.parse(readFileSync(path, 'utf8'))
let removed = 0
for (const pkg of Object.values(lock.packages ?? {})) {
  if ('funding' in pkg) {
    delete pkg.funding
    removed++
  }
}
const text = JSON.stringify(lock, null, 2) + '\n'
writeFileSync(path, text)
const urls = [...text.matchAll(/https?:\/\/[^"\s]+/g)].map((m) => m[0]).filter((u) => !u.startsWith('https://registry.npmjs.org/'))
console.log(`removed funding from ${removed} packages; non-registry URLs left: ${urls.length}`)
if (urls.length) {
  console.log(urls.slice(0, 10).join('\n'))
  process.exit(1)
}
