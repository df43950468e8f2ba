#!/usr/bin/env node
// Writes the small Fashion-MNIST sample shipped in packages/wasmgrad/data/fashion-mnist-sample:
// the first 2,000 training and 500 test images (gzipped IDX, same layout as the full set) from
// Debian's dataset-fashion-mnist. The CLI falls back to it when the full set is not installed.
// Usage: node scripts/make-sample.mjs [sourceDir]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const src = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const out = join(dirname(fileURLToPath(import.meta.url)), '../packages/wasmgrad/data/fashion-mnist-sample');
const take = (file, count) => {
  const bytes = gunzipSync(readFileSync(join(src, `${file}.gz`)));
  const dims = bytes[3];
  const header = 4 + 4 * dims;
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  let row = 1;
  for (let d = 1; d < dims; d++) row *= view.getUint32(4 + 4 * d);
  const result = Buffer.from(bytes.subarray(0, header + count * row));
  new DataView(result.buffer, result.byteOffset).setUint32(4, count);
  writeFileSync(join(out, `${file}.gz`), gzipSync(result, { level: 9 }));
};
take('train-images-idx3-ubyte', 2000);
take('train-labels-idx1-ubyte', 2000);
take('t10k-images-idx3-ubyte', 500);
take('t10k-labels-idx1-ubyte', 500);
