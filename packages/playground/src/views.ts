/** Canvas and table views: the 2-D decision boundary, sample images and the confusion matrix. */
import type { Dataset, Split } from './datasets.js';

const CLASS_RGB = [
  [31, 119, 180],
  [255, 127, 14],
];

/** Grid points covering the square [-extent, extent]², row by row from the top. */
export function boundaryGrid(extent: number, size: number): Float32Array {
  const grid = new Float32Array(2 * size * size);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const i = r * size + c;
      grid[2 * i] = -extent + ((c + 0.5) * 2 * extent) / size;
      grid[2 * i + 1] = extent - ((r + 0.5) * 2 * extent) / size;
    }
  }
  return grid;
}

/** Paints class probabilities of the grid (two classes) and the test points on a canvas. */
export function drawBoundary(canvas: HTMLCanvasElement, probs: Float32Array, size: number, data: Dataset): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { width, height } = canvas;
  const image = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const p = probs[2 * i + 1] as number; // probability of class 1
    for (let k = 0; k < 3; k++) {
      const mix = (1 - p) * (CLASS_RGB[0]?.[k] as number) + p * (CLASS_RGB[1]?.[k] as number);
      image.data[4 * i + k] = Math.round(255 - 0.45 * (255 - mix));
    }
    image.data[4 * i + 3] = 255;
  }
  const off = document.createElement('canvas');
  off.width = size;
  off.height = size;
  off.getContext('2d')?.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, width, height);
  drawPoints(ctx, data.test, data.extent ?? 1, width, height);
}

function drawPoints(ctx: CanvasRenderingContext2D, split: Split, extent: number, width: number, height: number) {
  for (let i = 0; i < split.n; i++) {
    const x = (((split.x[2 * i] as number) + extent) / (2 * extent)) * width;
    const y = ((extent - (split.x[2 * i + 1] as number)) / (2 * extent)) * height;
    const [r, g, b] = CLASS_RGB[split.labels[i] as number] ?? [0, 0, 0];
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.strokeStyle = 'white';
    ctx.beginPath();
    ctx.arc(x, y, 3, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }
}

/** Index of the largest value in each row of `probs`. */
export function argmaxRows(probs: Float32Array, classes: number): Uint8Array {
  const out = new Uint8Array(probs.length / classes);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++)
      if ((probs[i * classes + c] as number) > (probs[i * classes + best] as number)) best = c;
    out[i] = best;
  }
  return out;
}

/** Renders the confusion matrix (rows: true class, columns: predicted) as a table. */
export function renderConfusion(target: HTMLElement, predicted: Uint8Array, truth: Uint8Array, names: string[]): void {
  const k = names.length;
  const counts = new Array(k * k).fill(0) as number[];
  truth.forEach((t, i) => {
    const idx = t * k + (predicted[i] as number);
    counts[idx] = (counts[idx] as number) + 1;
  });
  const max = Math.max(1, ...counts);
  const head = `<tr><th>true \\ predicted</th>${names.map((n) => `<th>${n}</th>`).join('')}</tr>`;
  const rows = names
    .map((name, r) => {
      const cells = names
        .map((_, c) => {
          const v = counts[r * k + c] as number;
          const alpha = (v / max).toFixed(2);
          const color = r === c ? `rgba(44,160,44,${alpha})` : `rgba(214,39,40,${alpha})`;
          return `<td style="background:${color}">${v}</td>`;
        })
        .join('');
      return `<tr><th>${name}</th>${cells}</tr>`;
    })
    .join('');
  target.innerHTML = `<table class="confusion">${head}${rows}</table>`;
}

/** Shows the first `count` test images with predicted and true labels. */
export function renderSamples(target: HTMLElement, data: Dataset, predicted: Uint8Array, count: number): void {
  target.innerHTML = '';
  for (let i = 0; i < Math.min(count, data.test.n); i++) {
    const figure = document.createElement('figure');
    const canvas = document.createElement('canvas');
    canvas.width = 28;
    canvas.height = 28;
    const ctx = canvas.getContext('2d');
    if (ctx) {
      const image = ctx.createImageData(28, 28);
      for (let p = 0; p < 784; p++) {
        const v = 255 - Math.round(255 * (data.test.x[i * 784 + p] as number));
        image.data.set([v, v, v, 255], 4 * p);
      }
      ctx.putImageData(image, 0, 0);
    }
    const ok = predicted[i] === data.test.labels[i];
    const caption = document.createElement('figcaption');
    caption.className = ok ? 'ok' : 'wrong';
    caption.textContent = `${data.classNames[predicted[i] as number]}${ok ? '' : ` (${data.classNames[data.test.labels[i] as number]})`}`;
    figure.append(canvas, caption);
    target.append(figure);
  }
}
