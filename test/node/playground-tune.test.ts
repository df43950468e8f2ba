/**
 * The playground's Tune panel end to end: Vite builds packages/playground, a static server serves
 * it with COOP/COEP headers, and headless Chromium runs a Bayesian search on XOR (6 trials, 2
 * parallel workers, each trial a fit in its own Web Worker through `wg.tune.search`). Checks the
 * live table fills with 6 completed trials, the best is highlighted with val_accuracy ≥ 0.9, the
 * best-so-far chart is drawn, "Use best" writes the best parameters into the model form and Train
 * then reaches a comparable accuracy. A screenshot is saved to runs/playground-tune.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlayground, type PlaygroundApp, root } from '../shared/playground-app.js';

interface Row {
  trial: number;
  state: string;
  params: Record<string, number | string>;
  value?: number;
  seconds?: number;
}
interface TuneState {
  status: string;
  rows: Row[];
  best?: { trial: number; value: number; params: Record<string, number | string> };
  seconds: number;
  error?: string;
}
interface PlaygroundState {
  status: string;
  epochs: number;
  logs: Record<string, number>;
  error?: string;
}

describe('playground Tune panel (Vite build in headless Chromium)', () => {
  let app: PlaygroundApp | undefined;
  let page: Page;
  const pageLog = () => app?.pageLog() ?? '';
  const main = () => page.evaluate(() => (window as unknown as { playground: PlaygroundState }).playground);
  const tune = () => page.evaluate(() => (window as unknown as { playgroundTune: TuneState }).playgroundTune);
  const poll = async <S extends { status: string; error?: string }>(
    read: () => Promise<S>,
    what: string,
    ok: (s: S) => boolean,
    ms: number,
  ): Promise<S> => {
    const end = Date.now() + ms;
    for (;;) {
      const s = await read();
      if (ok(s)) return s;
      if (s.status === 'error' || Date.now() > end) {
        throw new Error(`${what}: status ${s.status} ${s.error ?? ''} after ${ms} ms${pageLog()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    app = await openPlayground(1500);
    page = app.page;
    await poll(main, 'page load', (s) => s.status === 'idle', 60_000);
  }, 300_000);

  afterAll(async () => {
    await app?.close();
  });

  it('searches XOR with 6 trials in 2 workers, highlights the best, and "Use best" fills the form', async () => {
    await page.getByTestId('dataset').selectOption('xor');
    await poll(main, 'xor load', (s) => s.status === 'idle', 10_000);
    expect(await page.getByTestId('tune-use-best').isDisabled()).toBe(true);
    await page.getByTestId('tune-trials').fill('6');
    await page.getByTestId('tune-parallel').fill('2');
    await page.getByTestId('tune-epochs').fill('20');
    await page.getByTestId('tune-method').selectOption('bayesian');
    const t0 = Date.now();
    await page.getByTestId('tune-start').click();
    // Two trials run at once: the table shows them as running before any finishes.
    const running = await poll(tune, 'trials start', (s) => s.rows.some((r) => r.state === 'running'), 30_000);
    expect(running.status).toBe('running');
    expect(running.rows.filter((r) => r.state === 'running').length).toBeLessThanOrEqual(2);
    const s = await poll(tune, 'search', (st) => st.status === 'done', 90_000);
    const wall = (Date.now() - t0) / 1000;
    console.log(
      `tune on xor: ${s.rows.length} trials in ${s.seconds.toFixed(1)} s (page), ${wall.toFixed(1)} s (test); ` +
        `best trial ${s.best?.trial} val_accuracy ${s.best?.value.toFixed(4)} ${JSON.stringify(s.best?.params)}`,
    );
    expect(s.rows.map((r) => r.trial).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.rows.every((r) => r.state === 'complete' && r.value !== undefined && (r.seconds ?? 0) > 0)).toBe(true);
    expect(await page.locator('[data-testid=tune-table] tr[data-state=complete]').count()).toBe(6);
    const best = s.best as NonNullable<TuneState['best']>;
    expect(best.value).toBeGreaterThanOrEqual(0.9);
    expect(best.value).toBe(Math.max(...s.rows.map((r) => r.value as number)));
    // The highlighted row is the best trial.
    const highlighted = page.locator('[data-testid=tune-table] tr.best');
    expect(await highlighted.count()).toBe(1);
    expect(await highlighted.getAttribute('data-trial')).toBe(String(best.trial));
    expect(await page.locator('[data-testid=tune-chart] canvas').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('tune-status').textContent()).toContain('6/6 trials');

    // "Use best" writes the parameters into the model form (two hidden layers kept).
    await page.getByTestId('tune-use-best').click();
    const lr = Number(await page.getByTestId('lr').inputValue());
    expect(Math.abs(lr - (best.params.lr as number)) / (best.params.lr as number)).toBeLessThan(0.01);
    const units = best.params.units as number;
    expect(await page.getByTestId('hidden').inputValue()).toBe(`${units},${units}`);

    // Train uses them: a fit of the same length reaches a comparable accuracy.
    await page.getByTestId('epochs').fill('20');
    await page.getByTestId('train').click();
    const trained = await poll(main, 'train with best', (st) => st.status === 'done', 60_000);
    expect(trained.logs.val_accuracy).toBeGreaterThan(0.85);

    mkdirSync(join(root, 'runs'), { recursive: true });
    await page.screenshot({ path: join(root, 'runs/playground-tune.png'), fullPage: true });
    expect(existsSync(join(root, 'runs/playground-tune.png'))).toBe(true);
  }, 200_000);

  it('tunes the Fashion-MNIST sample over all four parameters, and Stop ends the search early', async () => {
    await page.getByTestId('dataset').selectOption('fashion-mnist');
    await poll(main, 'fashion load', (s) => s.status === 'idle', 30_000);
    expect(await page.getByTestId('tune-epochs').inputValue()).toBe('2');
    await page.getByTestId('tune-dropout-on').check();
    await page.getByTestId('tune-opt-on').check();
    await page.getByTestId('tune-units-high').fill('32');
    await page.getByTestId('tune-trials').fill('20');
    await page.getByTestId('tune-epochs').fill('1');
    await page.getByTestId('tune-method').selectOption('random');
    await page.getByTestId('tune-start').click();
    await poll(tune, 'first trial', (s) => s.rows.some((r) => r.state === 'complete'), 60_000);
    await page.getByTestId('tune-start').click(); // now "Stop search"
    const s = await poll(tune, 'stop', (st) => st.status === 'stopped', 60_000);
    console.log(
      `tune on fashion-mnist: stopped after ${s.rows.length} trials in ${s.seconds.toFixed(1)} s; ` +
        `best val_accuracy ${s.best?.value.toFixed(4)} ${JSON.stringify(s.best?.params)}`,
    );
    expect(s.rows.length).toBeLessThan(20);
    expect(s.rows.every((r) => r.state === 'complete')).toBe(true);
    expect(Object.keys(s.best?.params ?? {}).sort()).toEqual(['dropout', 'lr', 'optimizer', 'units']);
    expect(s.best?.value).toBeGreaterThan(0.4); // 2,000 images, one epoch of a small MLP
    const header = await page.locator('[data-testid=tune-table] th').allTextContents();
    expect(header).toEqual(['trial', 'lr', 'units', 'dropout', 'optimizer', 'val_accuracy', 'state', 'seconds']);
    await page.getByTestId('tune-use-best').click();
    expect(await page.getByTestId('optimizer').inputValue()).toBe(s.best?.params.optimizer);
    expect(Number(await page.locator('#dropout').inputValue())).toBeCloseTo(s.best?.params.dropout as number, 2);
  }, 120_000);

  it('reports a bad search space as a typed error, and records diverging trials as failed', async () => {
    const status = (want: string) =>
      page.waitForFunction(
        (w) => (window as unknown as { playgroundTune: TuneState }).playgroundTune.status === w,
        want,
        { timeout: 60_000 },
      );
    await page.getByTestId('tune-lr-low').fill('0.1');
    await page.getByTestId('tune-lr-high').fill('0.001');
    await page.getByTestId('tune-start').click();
    await status('error');
    const bad = await tune();
    expect(bad.error).toMatch(/^ValueError: .*lr/);
    expect(await page.getByTestId('tune-status').textContent()).toContain('ValueError');
    expect(await page.getByTestId('tune-start').textContent()).toBe('Start search');
    // Absurd learning rates make every fit's loss NaN: each trial is recorded as failed (the
    // worker's NonFiniteLossError must keep its class through the minified bundle), none aborts the search.
    await page.getByTestId('dataset').selectOption('xor');
    await poll(main, 'xor load', (st) => st.status === 'idle', 10_000);
    await page.getByTestId('activation').selectOption('relu');
    await page.getByTestId('tune-dropout-on').uncheck();
    await page.getByTestId('tune-opt-on').uncheck();
    await page.getByTestId('optimizer').selectOption('sgd');
    await page.getByTestId('tune-lr-low').fill('1e6');
    await page.getByTestId('tune-lr-high').fill('1e9');
    await page.getByTestId('tune-trials').fill('2');
    await page.getByTestId('tune-epochs').fill('5');
    await page.getByTestId('tune-start').click();
    await status('done');
    const s = await tune();
    expect(s.rows.map((r) => r.state)).toEqual(['failed', 'failed']);
    expect(s.best).toBeUndefined();
    expect(await page.getByTestId('tune-use-best').isDisabled()).toBe(true);
  }, 90_000);
});
