/**
 * wg.tune.optimize: determinism for a seed (also with parallel trials finishing in random order),
 * save and resume giving the uninterrupted study, parallel trials really overlapping, median early
 * stopping, failed trials, grid enumeration, categorical parameters, and a reduced version of the
 * Branin / Hartmann-6 comparison (the 10-seed one is `node bench/tune.mjs`).
 *
 * "Within 1% of the optimum" means normalized regret (best − f*) / (f_max − f_min) ≤ 0.01 over the
 * domain: Branin f* = 0.397887, f_max = 308.129 (range 307.73); Hartmann-6 f* = −3.32237,
 * f_max ≈ 0 (range 3.32237). Random search needs, for a target set of volume fraction p, a median
 * of ln 2 / −ln(1 − p) evaluations (geometric); p is estimated here by seeded Monte Carlo.
 */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { mulberry32 } from '../../packages/wasmgrad/src/random.js';

const { tune } = wg;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const BRANIN = { fStar: 0.397887, fMax: 308.129 };
function branin({ x1, x2 }: wg.tune.Params): number {
  const [a, b] = [x1 as number, x2 as number];
  const t = (b - (5.1 / (4 * Math.PI ** 2)) * a * a + (5 / Math.PI) * a - 6) ** 2;
  return t + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(a) + 10;
}
const braninSpace = { x1: tune.uniform(-5, 10), x2: tune.uniform(0, 15) };

const H6 = {
  alpha: [1, 1.2, 3, 3.2],
  A: [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
  ],
  P: [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
  ],
  fStar: -3.32237,
  fMax: 0,
};
function hartmann6(p: wg.tune.Params): number {
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let e = 0;
    for (let j = 0; j < 6; j++)
      e += (H6.A[i]?.[j] as number) * ((p[`x${j}`] as number) - (H6.P[i]?.[j] as number) * 1e-4) ** 2;
    s += (H6.alpha[i] as number) * Math.exp(-e);
  }
  return -s;
}
const h6Space = Object.fromEntries(Array.from({ length: 6 }, (_, j) => [`x${j}`, tune.uniform(0, 1)]));

/** 1-based evaluation at which the running best first reaches the target (Infinity if never). */
function evaluationsTo(study: wg.tune.Study, target: number): number {
  const i = study.trials.findIndex((t) => (t.value as number) <= target);
  return i < 0 ? Number.POSITIVE_INFINITY : i + 1;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] as number;

/** A study's trials without timings (which differ between runs). */
const strip = (s: wg.tune.Study) => s.trials.map(({ durationMs: _, ...t }) => t);

describe('determinism and resume', () => {
  const mixed = {
    x: tune.uniform(-2, 2),
    lr: tune.logUniform(1e-4, 1),
    k: tune.int(1, 8),
    act: tune.choice(['relu', 'tanh', 'gelu']),
  };
  const f = (p: wg.tune.Params) =>
    ((p.x as number) - 0.5) ** 2 +
    (Math.log10(p.lr as number) + 2) ** 2 +
    0.1 * Math.abs((p.k as number) - 3) +
    (p.act === 'tanh' ? 0 : 0.5);
  /** The same objective, finishing after a random delay so that parallel trials complete out of order. */
  const jittery = (seed: number) => {
    const rand = mulberry32(seed);
    return async (p: wg.tune.Params) => {
      await sleep(rand() * 6);
      return f(p);
    };
  };

  it('the same seed gives the same study; another seed another one', async () => {
    const run = (seed: number) => tune.optimize({ space: mixed, objective: f, maxTrials: 14, seed });
    const [a, b, c] = [await run(3), await run(3), await run(4)];
    expect(strip(a)).toEqual(strip(b));
    expect(strip(a)).not.toEqual(strip(c));
  });

  it('with 3 parallel trials finishing in random order, the study still depends only on the seed', async () => {
    const run = (jitterSeed: number) =>
      tune.optimize({ space: mixed, objective: jittery(jitterSeed), maxTrials: 14, parallel: 3, seed: 5 });
    const [a, b] = [await run(1), await run(2)];
    expect(strip(a)).toEqual(strip(b));
  });

  it('a study saved after 7 trials and resumed equals the uninterrupted one (parallel 1 and 2)', async () => {
    for (const parallel of [1, 2]) {
      let saved = '';
      const full = await tune.optimize({
        space: mixed,
        objective: jittery(7),
        maxTrials: 14,
        parallel,
        seed: 9,
        onTrial: (_t, study) => {
          if (study.trials.length === 7) saved = JSON.stringify(study);
        },
      });
      expect(saved).not.toBe('');
      const restored = tune.Study.fromJSON(saved);
      expect(restored.trials.length).toBe(7);
      let ran = 0;
      const resumed = await tune.optimize({
        study: saved,
        objective: async (p) => {
          ran++;
          return f(p);
        },
        maxTrials: 14,
        parallel,
      });
      expect(ran).toBe(7);
      expect(strip(resumed)).toEqual(strip(full));
      expect(resumed.best?.number).toBe(full.best?.number);
    }
  });

  it('resuming with a different space or seed is a ValueError; malformed JSON too', async () => {
    const study = await tune.optimize({ space: mixed, objective: f, maxTrials: 3, seed: 1 });
    await expect(tune.optimize({ study, space: braninSpace, objective: f })).rejects.toThrow(/space .* differs/);
    await expect(tune.optimize({ study: study.toJSON(), seed: 2, objective: f })).rejects.toThrow(wg.ValueError);
    expect(() => tune.Study.fromJSON('{"format":"other"}')).toThrow(wg.ValueError);
    expect(() => tune.Study.fromJSON('not json')).toThrow(wg.ValueError);
    const bad = study.toJSON();
    (bad.trials[0] as { params: wg.tune.Params }).params.act = 'elu';
    expect(() => tune.Study.fromJSON(bad)).toThrow(/parameter "act": "elu"/);
  });
});

describe('running trials', () => {
  it('parallel: n runs n objectives at once', async () => {
    let active = 0;
    let most = 0;
    const t0 = performance.now();
    await tune.optimize({
      space: braninSpace,
      method: 'random',
      maxTrials: 8,
      parallel: 4,
      objective: async (p) => {
        most = Math.max(most, ++active);
        await sleep(40);
        active--;
        return branin(p);
      },
    });
    expect(most).toBe(4);
    // 8 trials of 40 ms, 4 at a time: about 80 ms, far below the 320 ms of one at a time.
    expect(performance.now() - t0).toBeLessThan(250);
  });

  it('median early stopping prunes trials whose curves fall behind', async () => {
    // Learning curves: value(step) = q + 1/(step + 1), q = (x − 0.7)²; x far from 0.7 is poor early on.
    const study = await tune.optimize({
      space: { x: tune.uniform(0, 1) },
      method: 'random',
      seed: 2,
      maxTrials: 16,
      earlyStopping: { rule: 'median', warmupSteps: 1, minTrials: 3 },
      objective: async (p, trial) => {
        const q = ((p.x as number) - 0.7) ** 2;
        let v = 0;
        for (let step = 0; step < 10; step++) {
          v = q + 1 / (step + 1);
          if (trial.report(step, v)) break;
        }
        return v;
      },
    });
    const pruned = study.trials.filter((t) => t.state === 'pruned');
    const complete = study.trials.filter((t) => t.state === 'complete');
    expect(pruned.length).toBeGreaterThan(3);
    for (const t of pruned) expect(t.intermediate.length).toBeLessThan(10);
    for (const t of complete) expect(t.intermediate.length).toBe(10);
    // The best trial ran to the end, and the pruned ones were worse than the median of their references.
    const q = (t: wg.tune.Trial) => ((t.params.x as number) - 0.7) ** 2;
    const worstComplete = Math.max(...complete.slice(3).map(q));
    expect(Math.min(...pruned.map(q))).toBeGreaterThan(Math.min(...complete.map(q)));
    expect(worstComplete).toBeLessThan(Math.max(...pruned.map(q)));
    expect(study.best?.state).toBe('complete');
  });

  it('a non-finite value is a failed trial; a throwing objective ends the search with its error', async () => {
    const study = await tune.optimize({
      space: braninSpace,
      method: 'bayesian',
      maxTrials: 9,
      seed: 1,
      objective: (p) => ((p.x1 as number) > 2.5 ? Number.NaN : branin(p)),
    });
    const failed = study.trials.filter((t) => t.state === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const t of failed) expect(t.value).toBeUndefined();
    expect(study.best?.state).toBe('complete');
    expect(study.format()).toMatch(/failed/);
    const boom = new Error('boom');
    let calls = 0;
    await expect(
      tune.optimize({
        space: braninSpace,
        maxTrials: 10,
        objective: () => {
          if (++calls === 3) throw boom;
          return 1;
        },
      }),
    ).rejects.toBe(boom);
    expect(calls).toBe(3);
  });

  it('grid search runs every grid point once and stops there', async () => {
    const seen: string[] = [];
    const study = await tune.optimize({
      space: { a: tune.choice(['x', 'y', 'z']), b: tune.int(0, 3) },
      method: 'grid',
      maxTrials: 100,
      objective: (p) => {
        seen.push(`${p.a}${p.b}`);
        return (p.b as number) + (p.a === 'y' ? 0 : 10);
      },
    });
    expect(seen.length).toBe(12);
    expect(new Set(seen).size).toBe(12);
    expect(study.bestParams).toEqual({ a: 'y', b: 0 });
    const rows = study.table();
    expect(rows[0]).toMatchObject({ trial: 0, state: 'complete', value: 10, a: 'x', b: 0 });
  });

  it('maximize: the best is the largest value', async () => {
    const study = await tune.optimize({
      space: { x: tune.uniform(0, 1) },
      direction: 'maximize',
      method: 'random',
      maxTrials: 10,
      objective: (p) => p.x as number,
    });
    expect(study.best?.value).toBe(Math.max(...study.trials.map((t) => t.value as number)));
  });

  it('bad options are ValueErrors', async () => {
    const objective = () => 0;
    const space = braninSpace;
    await expect(tune.optimize({ space, objective, parallel: 0 })).rejects.toThrow(/parallel must be/);
    await expect(tune.optimize({ space, objective, maxTrials: -1 })).rejects.toThrow(/maxTrials must be/);
    await expect(tune.optimize({ space, objective, method: 'tpe' as 'random' })).rejects.toThrow(/method must be/);
    await expect(tune.optimize({ space, objective, direction: 'up' as 'maximize' })).rejects.toThrow(
      /direction must be/,
    );
    await expect(tune.optimize({ space, objective: 3 as unknown as () => number })).rejects.toThrow(wg.ValueError);
    await expect(tune.optimize({ objective })).rejects.toThrow(/needs a space/);
  });
});

describe('Bayesian search quality (reduced; the 10-seed version is bench/tune.mjs)', () => {
  it('finds the better category and value of a mixed space far sooner than chance', async () => {
    // Only 'c' with x near 0.8 and k = 6 is good; random search would need ~100 trials to hit it.
    const study = await tune.optimize({
      space: { cat: tune.choice(['a', 'b', 'c', 'd']), x: tune.uniform(0, 1), k: tune.int(1, 10) },
      seed: 1,
      maxTrials: 30,
      objective: (p) =>
        (p.cat === 'c' ? 0 : 1) + 4 * ((p.x as number) - 0.8) ** 2 + 0.05 * Math.abs((p.k as number) - 6),
    });
    expect(study.bestParams?.cat).toBe('c');
    expect(study.best?.value as number).toBeLessThan(0.05);
  });

  it('handles conditional parameters: present exactly when active, and tuned where they matter', async () => {
    const study = await tune.optimize({
      space: {
        opt: tune.choice(['sgd', 'adam']),
        momentum: tune.uniform(0, 0.99, { when: { opt: 'sgd' } }),
        lr: tune.logUniform(1e-4, 1),
      },
      seed: 2,
      maxTrials: 25,
      // sgd with momentum ≈ 0.9 and lr ≈ 1e-2 is best; adam is flat at 0.3.
      objective: (p) =>
        p.opt === 'sgd'
          ? ((p.momentum as number) - 0.9) ** 2 + 0.05 * (Math.log10(p.lr as number) + 2) ** 2
          : 0.3 + 0.05 * (Math.log10(p.lr as number) + 2) ** 2,
    });
    for (const t of study.trials) expect('momentum' in t.params).toBe(t.params.opt === 'sgd');
    expect(study.bestParams?.opt).toBe('sgd');
    expect(Math.abs((study.bestParams?.momentum as number) - 0.9)).toBeLessThan(0.1);
  });

  it('Branin: within 0.1% of the range in ≤ 1/3 of the evaluations random search needs (median, 3 seeds)', async () => {
    const target = BRANIN.fStar + 0.001 * (BRANIN.fMax - BRANIN.fStar);
    const rand = mulberry32(1);
    let hits = 0;
    const N = 200_000;
    for (let i = 0; i < N; i++) if (branin({ x1: -5 + 15 * rand(), x2: 15 * rand() }) <= target) hits++;
    const randomMedian = Math.log(2) / -Math.log(1 - hits / N);
    expect(randomMedian).toBeGreaterThan(90); // ≈ 117
    const evals: number[] = [];
    for (const seed of [1, 2, 3]) {
      const study = await tune.optimize({ space: braninSpace, objective: branin, seed, maxTrials: 40 });
      evals.push(evaluationsTo(study, target));
    }
    console.log(`Branin 0.1%: Bayesian ${evals.join(', ')} evaluations; random median ≈ ${randomMedian.toFixed(0)}`);
    expect(median(evals)).toBeLessThanOrEqual(randomMedian / 3);
  });

  it('Hartmann-6: within 1% of the range in ≤ 90 evaluations, where random search needs millions', async () => {
    const target = H6.fStar + 0.01 * (H6.fMax - H6.fStar);
    const study = await tune.optimize({
      space: h6Space,
      objective: hartmann6,
      seed: 1,
      maxTrials: 90,
      onTrial: (t, s) => {
        if ((t.value as number) <= target) s.stop();
      },
    });
    const n = evaluationsTo(study, target);
    expect(study.trials.length).toBe(n); // study.stop() started no further trial
    console.log(`Hartmann-6 1%: Bayesian ${n} evaluations (seed 1), best ${study.best?.value}`);
    expect(n).toBeLessThanOrEqual(90);
    // Random search: no sample of 200k reaches the target (the volume fraction is ~5e-8).
    const rand = mulberry32(2);
    let best = 0;
    for (let i = 0; i < 200_000; i++) {
      const p: wg.tune.Params = {};
      for (let j = 0; j < 6; j++) p[`x${j}`] = rand();
      best = Math.min(best, hartmann6(p));
    }
    expect(best).toBeGreaterThan(target);
  });
});
