/**
 * The `wasmgrad` CLI, run as a real child process against the built package (Node and Deno):
 * train a tiny model, evaluate and predict with the saved model, summaries, and clear errors with
 * the documented exit codes for bad flags and bad files.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseFlags, UsageError } from '../../packages/wasmgrad/src/cli/args.js';
import { progressCallback } from '../../packages/wasmgrad/src/cli/progress.js';
import { curvesSvg } from '../../packages/wasmgrad/src/cli/svg.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'packages/wasmgrad/dist/cli/bin.js');
const sample = join(root, 'packages/wasmgrad/data/fashion-mnist-sample');

function cli(args: string[], runner: 'node' | 'deno' = 'node') {
  const denoDir = join(root, 'node_modules/.cache/deno');
  mkdirSync(denoDir, { recursive: true });
  const [cmd, pre] =
    runner === 'node'
      ? [process.execPath, [bin]]
      : [join(root, 'node_modules/.bin/deno'), ['run', '--allow-read', '--allow-write', '--allow-env', bin]];
  const r = spawnSync(cmd, [...pre, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('wasmgrad CLI (child process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmgrad-cli-'));
  const run = join(dir, 'run');

  it('prints usage: exit 0 with --help, 2 without a command or with an unknown one', () => {
    const help = cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('wasmgrad train');
    expect(cli([]).code).toBe(2);
    const unknown = cli(['fly']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("unknown command 'fly'");
    const trainHelp = cli(['train', '--help']);
    expect(trainHelp.code).toBe(0);
    expect(trainHelp.out).toContain('--learning-rate');
  });

  it('rejects bad flags with exit code 2 and names the flag and value', () => {
    const bad = cli(['train', '--epochs', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--epochs must be a number, got 'many'");
    const zero = cli(['train', '--batch-size', '0']);
    expect(zero.code).toBe(2);
    expect(zero.err).toContain('--batch-size must be an integer ≥ 1, got 0');
    const threads = cli(['train', '--threads', '0']);
    expect(threads.code).toBe(2);
    expect(threads.err).toContain('--threads must be an integer ≥ 1, got 0');
    const typo = cli(['train', '--epoch', '2']);
    expect(typo.code).toBe(2);
    expect(typo.err).toContain('unknown flag --epoch');
    const model = cli(['train', '--model', 'resnet']);
    expect(model.code).toBe(2);
    expect(model.err).toContain("'resnet' is neither");
  });

  it('trains a tiny MLP, saves model + history + curves, and prints test accuracy', () => {
    const r = cli([
      'train',
      '--model',
      'mlp',
      '--data',
      sample,
      '--epochs',
      '2',
      '--batch-size',
      '32',
      '--limit',
      '1000',
      '--threads',
      '1',
      '--out',
      run,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`1 thread; data: IDX files in ${sample}`);
    // Not a terminal: plain progress lines, one summary per epoch.
    expect(r.out).toMatch(/epoch 1\/2 {2}\d+ samples\/s/);
    expect(r.out).toMatch(/epoch 2\/2 .*accuracy \d\.\d{4}/);
    const acc = Number(/test: loss [\d.]+ {2}accuracy ([\d.]+)/.exec(r.out)?.[1]);
    expect(acc).toBeGreaterThan(0.6); // 1,000 samples, 2 epochs: 0.70–0.75 measured
    for (const f of ['model.json', 'weights.safetensors', 'history.json', 'curves.svg']) {
      expect(existsSync(join(run, f)), f).toBe(true);
    }
    const history = JSON.parse(readFileSync(join(run, 'history.json'), 'utf8'));
    expect(history.history.loss).toHaveLength(2);
    expect(history.test.accuracy).toBeCloseTo(acc, 4);
    const svg = readFileSync(join(run, 'curves.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)?.length).toBe(2); // loss and accuracy
  });

  it('evaluates and predicts with the saved model, agreeing with what train printed', () => {
    const saved = JSON.parse(readFileSync(join(run, 'history.json'), 'utf8'));
    const ev = cli(['evaluate', run, '--data', sample, '--limit', '1000']);
    expect(ev.code, ev.err).toBe(0);
    const acc = Number(/accuracy ([\d.]+)/.exec(ev.out)?.[1]);
    expect(acc).toBeCloseTo(saved.test.accuracy, 4);
    const pr = cli(['predict', run, '--data', sample, '--count', '4', '--json']);
    expect(pr.code, pr.err).toBe(0);
    const rows = pr.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      expect(row.predicted).toBeGreaterThanOrEqual(0);
      expect(row.predicted).toBeLessThan(10);
      expect(row.probability).toBeGreaterThan(0.1);
    }
  });

  it('fails with exit code 1 and a typed error for missing and corrupt model files', () => {
    const missing = cli(['evaluate', join(dir, 'nothing-here'), '--data', sample]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/Error: .*nothing-here/);
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'model.json'), readFileSync(join(run, 'model.json')));
    const weights = readFileSync(join(run, 'weights.safetensors'));
    writeFileSync(join(broken, 'weights.safetensors'), weights.subarray(0, weights.length - 7));
    const corrupt = cli(['evaluate', broken, '--data', sample]);
    expect(corrupt.code).toBe(1);
    expect(corrupt.err).toContain('FormatError');
    const noArgs = cli(['evaluate']);
    expect(noArgs.code).toBe(2);
  });

  it('summarizes built-in and saved models', () => {
    const cnn = cli(['summary', 'cnn']);
    expect(cnn.code).toBe(0);
    expect(cnn.out).toMatch(/conv2d_\d+ \(Conv2D\)/);
    expect(cnn.out).toMatch(/Total params: \d+/);
    const saved = cli(['summary', run]);
    expect(saved.code).toBe(0);
    expect(saved.out).toContain('Total params: 235146');
  });

  it('runs under Deno too', () => {
    const r = cli(['summary', 'mlp'], 'deno');
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('Total params: 235146');
  });
});

describe('wasmgrad CLI: CSV data and resuming', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmgrad-cli-csv-'));

  it('trains on a CSV file (categorical feature, label column), then evaluates and predicts the same way', () => {
    // Three classes decided by x1 + x2 and the colour; 900 rows, seeded.
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const lines = ['x1,x2,colour,species'];
    for (let i = 0; i < 900; i++) {
      const x1 = rand() * 4 - 2;
      const x2 = rand() * 4 - 2;
      const colour = ['red', 'green', 'blue'][Math.floor(rand() * 3)] as string;
      const s = x1 + x2 + (colour === 'red' ? 1.5 : 0);
      lines.push(
        `${x1.toFixed(3)},${x2.toFixed(3)},${colour},${s < -0.5 ? 'setosa' : s < 1 ? 'versicolor' : 'virginica'}`,
      );
    }
    const csv = join(dir, 'flowers.csv');
    writeFileSync(csv, `${lines.join('\n')}\n`);
    const out = join(dir, 'csv-run');
    const r = cli([
      'train',
      '--model',
      'mlp',
      '--data',
      csv,
      '--label',
      'species',
      '--epochs',
      '20',
      '--batch-size',
      '32',
      '--learning-rate',
      '0.01',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("5 features, label 'species'");
    const acc = Number(/test: loss [\d.]+ {2}accuracy ([\d.]+)/.exec(r.out)?.[1]);
    expect(acc).toBeGreaterThan(0.9); // 0.96–0.99 measured
    expect(existsSync(join(out, 'preprocessing.json'))).toBe(true);
    const ev = cli(['evaluate', out, '--data', csv]);
    expect(ev.code, ev.err).toBe(0);
    expect(Number(/accuracy ([\d.]+)/.exec(ev.out)?.[1])).toBeCloseTo(acc, 4);
    const pr = cli(['predict', out, '--data', csv, '--count', '3']);
    expect(pr.code, pr.err).toBe(0);
    expect(pr.out).toMatch(/predicted {2}\d (setosa|versicolor|virginica)/);
    const noLabel = cli(['train', '--data', csv]);
    expect(noLabel.code).toBe(2);
    expect(noLabel.err).toContain('--label');
    const cnn = cli(['train', '--model', 'cnn', '--data', csv, '--label', 'species']);
    expect(cnn.code).toBe(2);
    expect(cnn.err).toContain('--model cnn needs images');
  });

  it('a run killed mid-training resumes with --resume and ends bit-equal to an uninterrupted run', async () => {
    const args = (out: string) => [
      'train',
      '--model',
      'cnn',
      '--data',
      sample,
      '--epochs',
      '4',
      '--batch-size',
      '32',
      '--checkpoint-every',
      '5',
      '--out',
      out,
    ];
    const whole = join(dir, 'whole');
    const straight = cli(args(whole));
    expect(straight.code, straight.err).toBe(0);
    // The same run, killed (SIGKILL) as soon as its first backup exists.
    const cut = join(dir, 'cut');
    const child = spawn(process.execPath, [bin, ...args(cut)], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const backup = join(cut, 'backup', 'backup.wgckpt');
    const start = Date.now();
    while (!existsSync(backup) && Date.now() - start < 60_000) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    expect(await exited).toBeNull(); // killed, not finished
    expect(existsSync(join(cut, 'weights.safetensors'))).toBe(false);
    const again = cli(args(cut));
    expect(again.code, again.err).toBe(2);
    expect(again.err).toContain('pass --resume');
    const resumed = cli([...args(cut), '--resume']);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toMatch(/resumed from the backup at epoch \d, batch \d+/);
    expect(existsSync(backup)).toBe(false); // a finished run deletes its backup
    expect(
      readFileSync(join(cut, 'weights.safetensors')).equals(readFileSync(join(whole, 'weights.safetensors'))),
    ).toBe(true);
    const none = cli([...args(join(dir, 'fresh')), '--resume']);
    expect(none.code, none.err).toBe(2);
    expect(none.err).toContain('has none');
  }, 240_000);
});

describe('wasmgrad tune', () => {
  it('searches the MLP in parallel workers, saves the study and resumes it', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'wasmgrad-cli-tune-')), 'study');
    const args = ['tune', '--data', sample, '--limit', '800', '--parallel', '2', '--out', out];
    const r = cli([...args, '--trials', '3']);
    expect(r.code, r.err).toBe(0);
    expect(r.out.match(/^trial +\d+ {2}val_accuracy \d\.\d{4}/gm)).toHaveLength(3);
    expect(r.out).toMatch(/best: val_accuracy (\d\.\d{4}) with learningRate/);
    const study = JSON.parse(readFileSync(join(out, 'study.json'), 'utf8'));
    expect(study.trials).toHaveLength(3);
    const more = cli([...args, '--trials', '4']);
    expect(more.code, more.err).toBe(0);
    expect(more.out).toContain('resuming the study');
    expect(more.out.match(/^trial +\d+ {2}val_accuracy/gm)).toHaveLength(1); // only the new one runs
    expect(JSON.parse(readFileSync(join(out, 'study.json'), 'utf8')).trials).toHaveLength(4);
    const bad = cli(['tune', '--method', 'annealing']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--method must be bayesian, random, grid, got 'annealing'");
  }, 180_000);
});

describe('CLI pieces', () => {
  it('parseFlags: forms, defaults and typed errors', () => {
    const specs = {
      n: { kind: 'number' as const, minInt: 1, default: 3, help: '' },
      s: { kind: 'string' as const, help: '' },
      b: { kind: 'boolean' as const, help: '' },
    };
    expect(parseFlags('t', ['--n=5', 'pos', '--s', 'x', '--b'], specs)).toEqual({
      flags: Object.assign(Object.create(null), { n: 5, s: 'x', b: true }),
      positionals: ['pos'],
    });
    expect(parseFlags('t', [], specs).flags.n).toBe(3);
    expect(() => parseFlags('t', ['--n'], specs)).toThrow(UsageError);
    expect(() => parseFlags('t', ['--n', '1.5'], specs)).toThrow('--n must be an integer ≥ 1, got 1.5');
    expect(() => parseFlags('t', ['--b=1'], specs)).toThrow('--b takes no value');
    expect(() => parseFlags('t', ['--__proto__', '1'], specs)).toThrow('unknown flag --__proto__');
  });

  it('progress: a redrawn bar on a terminal, quarter lines otherwise', () => {
    let t = 0;
    const now = () => t;
    const draw = (isTTY: boolean) => {
      const chunks: string[] = [];
      const cb = progressCallback({ write: (s) => chunks.push(s), isTTY }, 1, 800, 100, now);
      cb.onEpochBegin?.(0);
      for (let b = 0; b < 8; b++) {
        t += 1000;
        cb.onBatchEnd?.(b, { loss: 1, size: 100 });
      }
      cb.onEpochEnd?.(0, { loss: 1, accuracy: 0.5 });
      return chunks;
    };
    const tty = draw(true);
    expect(tty.length).toBe(9);
    const bar = /\[(=*)>( *)\]/.exec(tty[3] as string); // 4 of 8 batches: half full
    expect(bar).not.toBeNull();
    expect(Math.abs((bar?.[1]?.length ?? 0) + 1 - (bar?.[2]?.length ?? 0))).toBeLessThanOrEqual(1);
    expect(tty[3]).toContain('100 samples/s');
    expect(tty[3]).toContain('ETA 4s');
    const plain = draw(false);
    expect(plain.length).toBe(4); // at 2/8, 4/8, 6/8, then the epoch line
    expect(plain.every((l) => !l.includes('\r') && l.endsWith('\n'))).toBe(true);
    expect(plain[3]).toContain('accuracy 0.5000');
  });

  it('curves: loss and metric panels, validation dashed, names escaped', () => {
    const svg = curvesSvg({ loss: [1, 0.5], val_loss: [1.1, 0.7], accuracy: [0.6, 0.8] }, 'a<b');
    expect(svg.match(/<polyline/g)?.length).toBe(3);
    expect(svg.match(/stroke-dasharray/g)?.length).toBe(1);
    expect(svg).toContain('a&#60;b');
    expect(svg).not.toContain('NaN');
  });
});
