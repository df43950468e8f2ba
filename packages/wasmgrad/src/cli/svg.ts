/**
 * Loss and accuracy curves of a training run as a self-contained SVG (no script, no external
 * resources): one panel for the losses, one for the accuracies, train solid and validation dashed.
 * @module
 */

/** Per-epoch values by name, as in `History.history`. */
export type Curves = Record<string, number[]>;

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

function panel(title: string, series: [string, number[]][], x0: number, width: number, height: number): string {
  const pad = { l: 52, r: 12, t: 28, b: 34 };
  const values = series.flatMap(([, v]) => v.filter(Number.isFinite));
  const epochs = Math.max(1, ...series.map(([, v]) => v.length));
  if (values.length === 0) return '';
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const sx = (i: number) => x0 + pad.l + (epochs === 1 ? w / 2 : (i * w) / (epochs - 1));
  const sy = (v: number) => pad.t + h - ((v - lo) / (hi - lo)) * h;
  const parts: string[] = [
    `<text x="${x0 + width / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${x0 + pad.l}" y="${pad.t}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    parts.push(
      `<text x="${x0 + pad.l - 4}" y="${sy(v) + 4}" text-anchor="end" font-size="10">${v.toPrecision(3)}</text>`,
    );
  }
  parts.push(
    `<text x="${x0 + pad.l + w / 2}" y="${height - 6}" text-anchor="middle" font-size="11">epoch (1–${epochs})</text>`,
  );
  series.forEach(([name, v], i) => {
    const color = COLORS[Math.floor(i / 2) % COLORS.length] as string;
    const dash = name.startsWith('val_') ? ' stroke-dasharray="5,3"' : '';
    const pts = v
      .map((y, e) => (Number.isFinite(y) ? `${sx(e).toFixed(1)},${sy(y).toFixed(1)}` : ''))
      .filter(Boolean)
      .join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    for (const p of pts.split(' ')) {
      const [cx, cy] = p.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${color}"/>`);
    }
    parts.push(
      `<text x="${x0 + pad.l + 6}" y="${pad.t + 14 + 13 * i}" font-size="11" fill="${color}">${esc(name)}</text>`,
    );
  });
  return parts.join('\n');
}

/** The SVG document for a history: losses on the left, accuracies (if any) on the right. */
export function curvesSvg(curves: Curves, title = 'training'): string {
  const entries = Object.entries(curves).filter(([, v]) => Array.isArray(v) && v.length > 0);
  const isLoss = (k: string) => /(^|_)loss$/.test(k);
  // Pair each train series with its val_ twin so they share a colour.
  const order = (keys: [string, number[]][]) =>
    keys.sort(([a], [b]) => a.replace(/^val_/, '').localeCompare(b.replace(/^val_/, '')) || a.localeCompare(b));
  const losses = order(entries.filter(([k]) => isLoss(k)));
  const others = order(entries.filter(([k]) => !isLoss(k) && !/^(lr|learning_rate)$/.test(k)));
  const width = 420;
  const height = 300;
  const total = others.length > 0 ? 2 * width : width;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${total}" height="${height}" viewBox="0 0 ${total} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    '<rect width="100%" height="100%" fill="white"/>',
    panel('loss', losses, 0, width, height),
    others.length > 0 ? panel('metrics', others, width, width, height) : '',
    '</svg>',
    '',
  ].join('\n');
}
