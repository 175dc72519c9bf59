import react from '@vitejs/plugin-react'
import tailwindcss from '@tailwindcss/vite'
import { defineConfig } from 'vitest/config'

// The dashboard calls the API on its own origin (relative URLs). In `npm run dev`
// the API paths are proxied to the edge gateway; client routes live under /app.
const edge = process.env.EDGE_URL ?? 'http://127.0.0.1:8080'
const apiPaths = ['/agents', '/sessions', '/usage', '/keys', '/tenants', '/health']

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    proxy: Object.fromEntries(apiPaths.map((p) => [p, { target: edge, changeOrigin: true }])),
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
  },
})
