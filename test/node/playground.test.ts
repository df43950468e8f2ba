/**
 * The playground end to end: Vite builds packages/playground (vite-plugin-wasm, ES workers), a
 * static server serves the build with COOP/COEP headers, and headless Chromium opens it, trains on
 * a 2-D set and on the Fashion-MNIST sample in a worker, and checks that the loss falls, accuracy
 * passes a threshold, the charts/boundary/confusion matrix render, and save/load through IndexedDB
 * gives the same accuracy. A screenshot is saved to runs/playground.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlayground, type PlaygroundApp, root } from '../shared/playground-app.js';

interface State {
  status: string;
  epochs: number;
  logs: Record<string, number>;
  history: Record<string, number>[];
  samplesPerSecond: number;
  error?: string;
  loadedAccuracy?: number;
}

describe('playground (Vite build in headless Chromium)', () => {
  let app: PlaygroundApp | undefined;
  let page: Page;
  const pageLog = () => app?.pageLog() ?? '';
  const state = () => page.evaluate(() => (window as unknown as { playground: State }).playground);
  const waitFor = async (what: string, ok: (s: State) => boolean, ms: number) => {
    const end = Date.now() + ms;
    for (;;) {
      const s = await state();
      if (ok(s)) return s;
      if (s.status === 'error' || Date.now() > end) {
        throw new Error(`${what}: status ${s.status} ${s.error ?? ''} after ${ms} ms${pageLog()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    app = await openPlayground(1100);
    page = app.page;
    await waitFor('page load', (s) => s.status === 'idle', 60_000);
  }, 300_000);

  afterAll(async () => {
    await app?.close();
  });

  it('is cross-origin isolated and runs the SIMD build', async () => {
    const text = await page.getByTestId('runtime').textContent();
    expect(text).toContain('SIMD128');
    expect(text).toContain('cross-origin isolated');
  });

  it('trains on XOR in a worker: loss falls, accuracy passes 0.95, the boundary is drawn', async () => {
    await page.getByTestId('dataset').selectOption('xor');
    await waitFor('xor load', (s) => s.status === 'idle', 10_000);
    await page.getByTestId('epochs').fill('40');
    await page.getByTestId('lr').fill('0.03');
    await page.getByTestId('train').click();
    const s = await waitFor('xor training', (st) => st.status === 'done', 120_000);
    expect(s.epochs).toBe(40);
    const first = s.history[0]?.loss as number;
    const last = s.history[s.history.length - 1]?.loss as number;
    expect(last).toBeLessThan(first * 0.5);
    expect(s.logs.val_accuracy).toBeGreaterThan(0.95);
    expect(s.samplesPerSecond).toBeGreaterThan(0);
    // The boundary canvas is painted in both class colours.
    const colours = await page.evaluate(() => {
      const c = document.querySelector('[data-testid=boundary]') as HTMLCanvasElement;
      const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
      let bluish = 0;
      let orangish = 0;
      for (let i = 0; i < d.length; i += 4) {
        if ((d[i + 2] as number) > (d[i] as number) + 30) bluish++;
        if ((d[i] as number) > (d[i + 2] as number) + 30) orangish++;
      }
      return { bluish, orangish };
    });
    expect(colours.bluish).toBeGreaterThan(1000);
    expect(colours.orangish).toBeGreaterThan(1000);
    mkdirSync(join(root, 'runs'), { recursive: true });
    await page.screenshot({ path: join(root, 'runs/playground.png'), fullPage: true });
    expect(existsSync(join(root, 'runs/playground.png'))).toBe(true);
  }, 150_000);

  it('trains the Fashion-MNIST sample, shows predictions and a confusion matrix, and stop() ends a fit', async () => {
    await page.getByTestId('dataset').selectOption('fashion-mnist');
    await waitFor('fashion load', (s) => s.status === 'idle', 30_000);
    await page.getByTestId('epochs').fill('3');
    await page.getByTestId('train').click();
    const s = await waitFor('fashion training', (st) => st.status === 'done', 120_000);
    expect(s.logs.val_accuracy).toBeGreaterThan(0.65); // 2,000 images, 3 epochs: ≈ 0.75 measured
    expect(await page.locator('[data-testid=confusion] tr').count()).toBe(11);
    expect(await page.locator('[data-testid=samples] figure').count()).toBe(16);
    // A long fit, stopped mid-way.
    await page.getByTestId('epochs').fill('500');
    await page.getByTestId('train').click();
    await waitFor('long fit starts', (st) => st.status === 'training' && st.epochs >= 1, 60_000);
    await page.getByTestId('stop').click();
    const stopped = await waitFor('stop', (st) => st.status === 'stopped', 30_000);
    expect(stopped.epochs).toBeLessThan(500);
  }, 300_000);

  it('saves to IndexedDB and loads back with the same test accuracy', async () => {
    const before = (await state()).logs.val_accuracy as number;
    await page.getByTestId('save-idb').click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid=status]')?.textContent?.includes('saved'),
      null,
      {
        timeout: 30_000,
      },
    );
    await page.getByTestId('load-idb').click();
    const s = await waitFor('load', (st) => st.loadedAccuracy !== undefined, 30_000);
    // The saved weights are those at the end of the stopped fit; val_accuracy was measured at the
    // end of its last epoch, so allow the batches after it.
    expect(Math.abs((s.loadedAccuracy as number) - before)).toBeLessThan(0.1);
  }, 90_000);
});
