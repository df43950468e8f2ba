/** IDX parsing: every element type, gzip, the real Fashion-MNIST files, and hostile input. */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';

/** Builds an IDX file: magic 00 00 type rank, big-endian u32 dims, big-endian values. */
function idx(type: number, dims: number[], values: number[]): Uint8Array {
  const size = { 8: 1, 9: 1, 11: 2, 12: 4, 13: 4, 14: 8 }[type] as number;
  const buf = new DataView(new ArrayBuffer(4 + 4 * dims.length + size * values.length));
  buf.setUint8(2, type);
  buf.setUint8(3, dims.length);
  dims.forEach((d, i) => {
    buf.setUint32(4 + 4 * i, d, false);
  });
  const o = 4 + 4 * dims.length;
  values.forEach((v, i) => {
    if (type === 8) buf.setUint8(o + i, v);
    else if (type === 9) buf.setInt8(o + i, v);
    else if (type === 11) buf.setInt16(o + 2 * i, v, false);
    else if (type === 12) buf.setInt32(o + 4 * i, v, false);
    else if (type === 13) buf.setFloat32(o + 4 * i, v, false);
    else buf.setFloat64(o + 8 * i, v, false);
  });
  return new Uint8Array(buf.buffer);
}

describe('IDX reader', () => {
  it.each([
    [0x08, 'uint8', [0, 7, 255]],
    [0x09, 'int8', [-128, 0, 127]],
    [0x0b, 'int16', [-32768, 1, 32767]],
    [0x0c, 'int32', [-2147483648, 5, 2147483647]],
    [0x0d, 'float32', [-1.5, 0, 3.25]],
    [0x0e, 'float64', [-1e300, 0.1, Math.PI]],
  ])('type %i (%s), plain and gzipped', async (type, dtype, values) => {
    for (const bytes of [idx(type, [3], values), gzipSync(idx(type, [3], values))]) {
      const out = await wg.data.parseIdx(bytes, 'test.idx');
      expect(out.dtype).toBe(dtype);
      expect(out.shape).toEqual([3]);
      expect(Array.from(out.values)).toEqual(values);
    }
  });

  it('reads the real Fashion-MNIST files', async () => {
    const { train, test } = await wg.data.loadMnistLike({ limit: 2000 });
    expect([train.count, test.count]).toEqual([2000, 2000]);
    expect(train.labels.reduce((a, b) => Math.max(a, b), 0)).toBe(9);
    expect(train.images.reduce((a, b) => Math.min(a, b), 1)).toBe(0);
    expect(train.images.reduce((a, b) => Math.max(a, b), 0)).toBe(1);
  });

  it.each<[string, Uint8Array, RegExp]>([
    ['a file shorter than a header', new Uint8Array([0, 0]), /too short/],
    ['bad magic', new Uint8Array([1, 0, 8, 1, 0, 0, 0, 0]), /bad IDX magic 01 00/],
    ['unknown type', new Uint8Array([0, 0, 0x0a, 1, 0, 0, 0, 0]), /unknown IDX element type 0a/],
    ['rank past the end', new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1]), /declares 3 dimensions/],
    ['dimension product overflow', idx(0x0e, [0xffffffff, 0xffffffff, 0xffffffff], []), /over the .*-byte limit/],
    ['body shorter than the header says', idx(0x08, [4], [1, 2, 3]), /body has 3 bytes but dimensions \[4\]/],
    ['trailing bytes', idx(0x08, [2], [1, 2, 3]), /body has 3 bytes but dimensions \[2\]/],
  ])('rejects %s with a ValueError naming the file', async (_name, bytes, message) => {
    const err = await wg.data.parseIdx(bytes, 'bad.idx').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(wg.ValueError);
    expect((err as Error).message).toMatch(/^bad\.idx: /);
    expect((err as Error).message).toMatch(message);
  });

  it('stops a gzip bomb at the size cap', async () => {
    const bomb = gzipSync(new Uint8Array(64 << 20)); // 64 MiB of zeros in ~64 KiB
    await expect(wg.data.parseIdx(bomb, 'bomb.gz', 1 << 20)).rejects.toThrow(/inflates past the/);
  });

  it('rejects corrupt gzip data', async () => {
    const gz = gzipSync(idx(0x08, [3], [1, 2, 3]));
    gz[12] = (gz[12] as number) ^ 0xff;
    await expect(wg.data.parseIdx(gz, 'corrupt.gz')).rejects.toThrow(wg.ValueError);
  });

  it('gives an error, never a crash or hang, for every truncation of a valid file', async () => {
    const file = idx(0x0d, [2, 3], [1, 2, 3, 4, 5, 6]);
    const gz = gzipSync(file);
    for (const bytes of [file, gz]) {
      for (let cut = 0; cut < bytes.length; cut++) {
        await expect(wg.data.parseIdx(bytes.subarray(0, cut), 'cut.idx')).rejects.toThrow(wg.ValueError);
      }
    }
  });
});
