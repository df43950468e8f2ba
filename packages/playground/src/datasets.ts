/**
 * The playground's datasets: seeded 2-D sets (spirals, moons, XOR, circles) for the live decision
 * boundary, and the Fashion-MNIST sample that ships with wasmgrad (served by the app).
 */
import * as wg from 'wasmgrad';
import testImagesUrl from 'wasmgrad/data/fashion-mnist-sample/t10k-images-idx3-ubyte.gz?url';
import testLabelsUrl from 'wasmgrad/data/fashion-mnist-sample/t10k-labels-idx1-ubyte.gz?url';
import trainImagesUrl from 'wasmgrad/data/fashion-mnist-sample/train-images-idx3-ubyte.gz?url';
import trainLabelsUrl from 'wasmgrad/data/fashion-mnist-sample/train-labels-idx1-ubyte.gz?url';

/** One split: features row-major and integer labels. */
export interface Split {
  x: Float32Array;
  labels: Uint8Array;
  n: number;
}

/** A dataset ready to train on. */
export interface Dataset {
  name: string;
  /** Per-sample feature shape: [2] for the 2-D sets, [28, 28, 1] for images. */
  shape: number[];
  classes: number;
  classNames: string[];
  train: Split;
  test: Split;
  /** Half-width of the square the 2-D points live in (for the boundary view). */
  extent?: number;
}

export const DATASETS = ['spirals', 'moons', 'xor', 'circles', 'fashion-mnist'] as const;
export type DatasetName = (typeof DATASETS)[number];

/** mulberry32: a small seeded generator, so every dataset is the same on every load. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

type Point = (rand: () => number, label: number) => [number, number];

const POINTS: Record<Exclude<DatasetName, 'fashion-mnist'>, Point> = {
  spirals: (rand, label) => {
    const r = rand();
    const angle = r * 3.5 * Math.PI + label * Math.PI;
    const radius = 0.2 + 2.3 * r;
    return [radius * Math.cos(angle) + 0.08 * gaussian(rand), radius * Math.sin(angle) + 0.08 * gaussian(rand)];
  },
  moons: (rand, label) => {
    const t = Math.PI * rand();
    const [x, y] = label === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
    return [1.6 * (x - 0.5) + 0.12 * gaussian(rand), 1.6 * (y - 0.25) + 0.12 * gaussian(rand)];
  },
  xor: (rand, label) => {
    const sx = rand() < 0.5 ? -1 : 1;
    const sy = label === 0 ? sx : -sx;
    return [sx * (0.3 + 1.7 * rand()), sy * (0.3 + 1.7 * rand())];
  },
  circles: (rand, label) => {
    const angle = 2 * Math.PI * rand();
    const radius = (label === 0 ? 0.8 : 2) + 0.25 * gaussian(rand);
    return [radius * Math.cos(angle), radius * Math.sin(angle)];
  },
};

function points(name: keyof typeof POINTS, n: number, seed: number): Split {
  const rand = rng(seed);
  const x = new Float32Array(2 * n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const [a, b] = POINTS[name](rand, label);
    x[2 * i] = a;
    x[2 * i + 1] = b;
    labels[i] = label;
  }
  return { x, labels, n };
}

async function idx(url: string, what: string): Promise<wg.data.IdxArray> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} for ${url}`);
  return wg.data.parseIdx(new Uint8Array(await response.arrayBuffer()), what);
}

async function fashionSplit(imagesUrl: string, labelsUrl: string, what: string): Promise<Split> {
  const [images, labels] = await Promise.all([idx(imagesUrl, `${what}-images`), idx(labelsUrl, `${what}-labels`)]);
  const raw = images.values as Uint8Array;
  const x = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) x[i] = (raw[i] as number) / 255;
  return { x, labels: labels.values as Uint8Array, n: labels.shape[0] as number };
}

export const FASHION_CLASSES = [
  'T-shirt',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Boot',
];

/** Loads (or generates) a dataset by name. */
export async function loadDataset(name: DatasetName): Promise<Dataset> {
  if (name === 'fashion-mnist') {
    const [train, test] = await Promise.all([
      fashionSplit(trainImagesUrl, trainLabelsUrl, 'train'),
      fashionSplit(testImagesUrl, testLabelsUrl, 'test'),
    ]);
    return { name, shape: [28, 28, 1], classes: 10, classNames: FASHION_CLASSES, train, test };
  }
  return {
    name,
    shape: [2],
    classes: 2,
    classNames: ['blue', 'orange'],
    train: points(name, 600, 1),
    test: points(name, 300, 2),
    extent: 3,
  };
}

/** One-hot targets for integer labels. */
export function oneHot(labels: Uint8Array, classes: number): Float32Array {
  const out = new Float32Array(labels.length * classes);
  labels.forEach((l, i) => {
    out[i * classes + l] = 1;
  });
  return out;
}
