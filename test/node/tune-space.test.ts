/**
 * Search spaces: bad spaces give a ValueError naming the parameter and the value; the unit-cube
 * encoding (log-warped for log scales, integer bins, one-hot choices, zeros for inactive
 * parameters) round-trips; sampling covers integers and choices evenly; grids enumerate every
 * combination once, conditional parameters included only where active.
 */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { mulberry32 } from '../../packages/wasmgrad/src/random.js';

const { tune } = wg;
const noop = () => 0;

/** The error a call throws (fails the test when it does not throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('bad spaces', () => {
  const cases: [string, wg.tune.SpaceSpec, RegExp][] = [
    ['uniform low = high', { lr: tune.uniform(0.5, 0.5) }, /parameter "lr".*low \(0\.5\) must be < high \(0\.5\)/],
    ['uniform low > high', { drop: tune.uniform(1, 0) }, /parameter "drop".*low \(1\) must be < high \(0\)/],
    ['int low > high', { units: tune.int(64, 8) }, /parameter "units".*low \(64\) must be ≤ high \(8\)/],
    ['int non-integer bound', { units: tune.int(1.5, 8) }, /parameter "units".*integers, got low 1\.5/],
    ['empty choice', { act: tune.choice([]) }, /parameter "act".*at least one value/],
    ['duplicate choices', { act: tune.choice(['relu', 'relu']) }, /parameter "act".*distinct/],
    ['logUniform low 0', { lr: tune.logUniform(0, 1) }, /parameter "lr".*positive, got low 0/],
    ['logUniform negative', { lr: tune.logUniform(-1, 1) }, /parameter "lr".*positive, got low -1/],
    ['log int below 1', { units: tune.int(0, 8, { log: true }) }, /parameter "units".*low ≥ 1, got low 0/],
    ['NaN bound', { x: tune.uniform(Number.NaN, 1) }, /parameter "x".*finite number, got NaN/],
    ['not a parameter', { x: 3 as unknown as wg.tune.Param }, /parameter "x".*expected wg\.tune/],
    [
      'condition on a later parameter',
      { momentum: tune.uniform(0, 1, { when: { opt: 'sgd' } }), opt: tune.choice(['sgd', 'adam']) },
      /parameter "momentum".*"opt", which is not declared before it/,
    ],
    [
      'condition value not a choice',
      { opt: tune.choice(['sgd', 'adam']), momentum: tune.uniform(0, 1, { when: { opt: 'rmsprop' } }) },
      /parameter "momentum".*"rmsprop" is not a value of "opt"/,
    ],
    ['empty space', {}, /no parameters/],
  ];
  for (const [what, space, message] of cases) {
    it(`${what} → ValueError`, async () => {
      const err = thrown(() => new tune.Space(space, 'tune.optimize'));
      expect(err).toBeInstanceOf(wg.ValueError);
      expect(err.message).toMatch(message);
      expect(err.message.startsWith('tune.optimize: ')).toBe(true);
      // optimize and search reject the same space before running anything.
      await expect(tune.optimize({ space, objective: noop, maxTrials: 1 })).rejects.toThrow(wg.ValueError);
      await expect(
        tune.search({
          space,
          build: () => wg.sequential(),
          data: { x: { values: [], shape: [0, 1] }, y: { values: [], shape: [0, 1] } },
        }),
      ).rejects.toThrow(message);
    });
  }
});

describe('encoding', () => {
  const space = new tune.Space({
    lr: tune.logUniform(1e-4, 1e-1),
    drop: tune.uniform(0, 0.5),
    units: tune.int(16, 256, { log: true }),
    layers: tune.int(1, 3),
    act: tune.choice(['relu', 'tanh', 'gelu']),
    opt: tune.choice(['sgd', 'adam']),
    momentum: tune.uniform(0, 0.99, { when: { opt: 'sgd' } }),
  });

  it('has one dimension per numeric parameter and one per choice value', () => {
    expect(space.dims).toBe(4 + 3 + 2 + 1);
    expect(space.numericDims()).toEqual([0, 1, 2, 3, 9]);
    expect(space.choiceSlots()).toEqual([
      { offset: 4, width: 3 },
      { offset: 7, width: 2 },
    ]);
  });

  it('log-warps, bins integers and one-hots choices; inactive parameters are zeros', () => {
    const u = space.encode({ lr: 10 ** -2.5, drop: 0.125, units: 64, layers: 2, act: 'tanh', opt: 'adam' });
    expect(u[0]).toBeCloseTo(0.5, 12); // log10: -2.5 is halfway between -4 and -1
    expect(u[1]).toBeCloseTo(0.25, 12);
    expect(u[2]).toBeCloseTo((Math.log(64) - Math.log(15.5)) / (Math.log(256.5) - Math.log(15.5)), 12);
    expect(u[3]).toBeCloseTo(0.5, 12); // 2 is the middle of three bins
    expect([...u.subarray(4, 9)]).toEqual([0, 1, 0, 0, 1]);
    expect(u[9]).toBe(0);
    const back = space.decode(u);
    expect(back.lr).toBeCloseTo(10 ** -2.5, 15);
    expect(back).toMatchObject({ drop: 0.125, units: 64, layers: 2, act: 'tanh', opt: 'adam' });
    expect('momentum' in back).toBe(false);
  });

  it('random points decode into the space and re-encode to themselves (canonical form)', () => {
    const rand = mulberry32(5);
    for (let i = 0; i < 200; i++) {
      const p = space.decode(space.sampleUnit(rand));
      expect(p.lr as number).toBeGreaterThanOrEqual(1e-4);
      expect(p.lr as number).toBeLessThanOrEqual(1e-1);
      expect(Number.isInteger(p.units) && (p.units as number) >= 16 && (p.units as number) <= 256).toBe(true);
      expect('momentum' in p).toBe(p.opt === 'sgd');
      const c = space.canonical(space.encode(p));
      expect(space.decode(c)).toEqual(p);
      expect([...space.canonical(c)]).toEqual([...c]);
    }
  });

  it('samples integers and choices evenly', () => {
    const small = new tune.Space({ k: tune.int(1, 4), c: tune.choice(['a', 'b', 'c']) });
    const rand = mulberry32(9);
    const counts = new Map<string, number>();
    const N = 12000;
    for (let i = 0; i < N; i++) {
      const p = small.decode(small.sampleUnit(rand));
      for (const key of [`k${p.k}`, `c${p.c}`]) counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const k of [1, 2, 3, 4]) expect(Math.abs((counts.get(`k${k}`) ?? 0) / N - 0.25)).toBeLessThan(0.02);
    for (const c of 'abc') expect(Math.abs((counts.get(`c${c}`) ?? 0) / N - 1 / 3)).toBeLessThan(0.02);
  });

  it('rejects parameters outside the space when encoding (e.g. a resumed study from another space)', () => {
    expect(() => space.encode({ lr: 1, drop: 0, units: 16, layers: 1, act: 'relu', opt: 'adam' })).toThrow(
      /parameter "lr": 1 is not a number in \[0\.0001, 0\.1\]/,
    );
    expect(() => space.encode({ lr: 0.01, drop: 0, units: 16, layers: 1, act: 'elu', opt: 'adam' })).toThrow(
      /parameter "act": "elu" is not one of its choices/,
    );
  });
});

describe('grid', () => {
  it('enumerates every combination once, the last parameter fastest', () => {
    const space = new tune.Space({ a: tune.choice(['x', 'y']), b: tune.int(1, 3), c: tune.logUniform(1e-3, 1e-1) });
    const g = space.grid(3);
    expect(g.length).toBe(2 * 3 * 3);
    expect(new Set(g.map((p) => JSON.stringify(p))).size).toBe(18);
    expect(g[0]).toEqual({ a: 'x', b: 1, c: 1e-3 });
    expect(g[1]?.c).toBeCloseTo(1e-2, 15);
    expect(g[17]).toEqual({ a: 'y', b: 3, c: 0.1 });
  });

  it('includes a conditional parameter only where it is active', () => {
    const space = new tune.Space({
      opt: tune.choice(['sgd', 'adam']),
      momentum: tune.uniform(0, 0.9, { when: { opt: 'sgd' } }),
    });
    expect(space.grid(4)).toEqual([
      { opt: 'sgd', momentum: 0 },
      { opt: 'sgd', momentum: 0.3 },
      { opt: 'sgd', momentum: 0.6 },
      { opt: 'sgd', momentum: 0.9 },
      { opt: 'adam' },
    ]);
  });
});
