import { describe, expect, it } from 'vitest'
import { encodeWav, mixToMono, readWavInfo } from './wav'

const ascii = (v: DataView, o: number, n = 4) => String.fromCharCode(...Array.from({ length: n }, (_, i) => v.getUint8(o + i)))

describe('encodeWav', () => {
  it('writes a 44-byte PCM 16-bit mono header', () => {
    const samples = new Float32Array(16000) // 1 s at 16 kHz
    const buf = encodeWav(samples, 16000)
    const v = new DataView(buf)
    expect(buf.byteLength).toBe(44 + 32000)
    expect(ascii(v, 0)).toBe('RIFF')
    expect(v.getUint32(4, true)).toBe(36 + 32000)
    expect(ascii(v, 8)).toBe('WAVE')
    expect(ascii(v, 12)).toBe('fmt ')
    expect(v.getUint32(16, true)).toBe(16)
    expect(v.getUint16(20, true)).toBe(1) // PCM
    expect(v.getUint16(22, true)).toBe(1) // mono
    expect(v.getUint32(24, true)).toBe(16000)
    expect(v.getUint32(28, true)).toBe(32000) // byte rate
    expect(v.getUint16(32, true)).toBe(2) // block align
    expect(v.getUint16(34, true)).toBe(16)
    expect(ascii(v, 36)).toBe('data')
    expect(v.getUint32(40, true)).toBe(32000)
  })

  it('clamps and scales samples to int16', () => {
    const v = new DataView(encodeWav(new Float32Array([0, 1, -1, 2, -2, 0.5]), 8000))
    expect([0, 1, 2, 3, 4, 5].map((i) => v.getInt16(44 + i * 2, true))).toEqual([0, 32767, -32768, 32767, -32768, 16384])
  })

  it('round-trips through readWavInfo', () => {
    const info = readWavInfo(encodeWav(new Float32Array(24000), 48000))
    expect(info).toMatchObject({ format: 1, channels: 1, sampleRate: 48000, bitsPerSample: 16, dataBytes: 48000 })
    expect(info!.durationSeconds).toBeCloseTo(0.5)
  })

  it('readWavInfo rejects non-WAV data and uses the total size for a header slice', () => {
    expect(readWavInfo(new TextEncoder().encode('not a wave file at all').buffer)).toBeNull()
    const full = encodeWav(new Float32Array(16000), 16000)
    expect(readWavInfo(full.slice(0, 64), full.byteLength)!.durationSeconds).toBeCloseTo(1)
  })

  it('mixToMono averages channels', () => {
    expect(Array.from(mixToMono([new Float32Array([1, 0]), new Float32Array([0, 1])]))).toEqual([0.5, 0.5])
  })
})
