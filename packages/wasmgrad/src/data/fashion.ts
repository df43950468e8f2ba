import { ValueError } from '../errors.js';
import { parseIdx } from './idx.js';
import { readBytes } from './read.js';

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Options of {@link loadMnistLike}. */
export interface MnistSourceOptions {
  /** A directory (Node/Deno) or base URL holding the four IDX files (gzipped or not). */
  dir?: string | URL;
  /** Load only the first `limit` training and test samples (default: all). */
  limit?: number;
}

/** One split: images scaled to [0, 1] as [n, 28, 28, 1] row-major, and integer labels. */
export interface MnistSplit {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

async function readIdxFile(dir: string | URL, base: string): Promise<Uint8Array> {
  const join = (name: string) =>
    dir instanceof URL
      ? new URL(name, dir.href.endsWith('/') ? dir : `${dir.href}/`)
      : `${String(dir).replace(/\/$/, '')}/${name}`;
  try {
    return await readBytes(join(`${base}.gz`));
  } catch {
    return await readBytes(join(base));
  }
}

async function loadSplit(
  dir: string | URL,
  images: string,
  labels: string,
  limit: number | undefined,
): Promise<MnistSplit> {
  const [imgBytes, lblBytes] = await Promise.all([readIdxFile(dir, images), readIdxFile(dir, labels)]);
  const img = await parseIdx(imgBytes, images);
  const lbl = await parseIdx(lblBytes, labels);
  if (img.dtype !== 'uint8' || img.shape.length !== 3 || img.shape[1] !== 28 || img.shape[2] !== 28) {
    throw new ValueError(images, `expected uint8 images of shape [n,28,28], got ${img.dtype} [${img.shape.join(',')}]`);
  }
  if (lbl.dtype !== 'uint8' || lbl.shape.length !== 1) {
    throw new ValueError(labels, `expected uint8 labels of shape [n], got ${lbl.dtype} [${lbl.shape.join(',')}]`);
  }
  if (lbl.shape[0] !== img.shape[0]) {
    throw new ValueError(labels, `${lbl.shape[0]} labels for ${img.shape[0]} images`);
  }
  const count = Math.min(img.shape[0] as number, limit ?? Number.POSITIVE_INFINITY);
  const raw = img.values as Uint8Array;
  const out = new Float32Array(count * 784);
  for (let i = 0; i < out.length; i++) out[i] = (raw[i] as number) / 255;
  const lv = (lbl.values as Uint8Array).subarray(0, count);
  for (let i = 0; i < count; i++) {
    if ((lv[i] as number) > 9) throw new ValueError(labels, `label ${lv[i]} at index ${i} is outside 0..9`);
  }
  return { images: out, labels: lv.slice(), count };
}

/** Reads MNIST-format IDX files (Fashion-MNIST, MNIST) from a directory or base URL. */
export async function loadMnistLike(
  options: MnistSourceOptions = {},
): Promise<{ train: MnistSplit; test: MnistSplit }> {
  const dir = options.dir ?? DEBIAN_FASHION_MNIST_DIR;
  const [train, test] = await Promise.all([
    loadSplit(dir, FILES.trainImages, FILES.trainLabels, options.limit),
    loadSplit(dir, FILES.testImages, FILES.testLabels, options.limit),
  ]);
  return { train, test };
}
