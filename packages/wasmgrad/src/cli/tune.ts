/**
 * `wasmgrad tune`: hyperparameter search for the built-in MLP (learning rate, hidden units,
 * dropout) with wg.tune.search, trials training in parallel workers; prints each trial, then the
 * table and the best parameters, and saves the study (resumable) as study.json.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import * as layers from '../layers/index.js';
import { type Sequential, sequential } from '../model/model.js';
import { optimizers } from '../optimizers/optimizers.js';
import { setSeed } from '../random.js';
import { ready } from '../runtime/runtime.js';
import type { Method } from '../tune/sampler.js';
import { search } from '../tune/search.js';
import { int, logUniform, type Params, uniform } from '../tune/space.js';

import { type FlagSpec, parseFlags, UsageError } from './args.js';
import { loadData } from './models.js';

export const TUNE_FLAGS: Record<string, FlagSpec> = {
  data: { kind: 'string', default: 'fashion-mnist', help: 'fashion-mnist, a directory of IDX files, or a CSV file' },
  label: { kind: 'string', help: 'CSV: the label column (categorical)' },
  trials: { kind: 'number', minInt: 1, default: 20, help: 'trials in the study' },
  parallel: { kind: 'number', minInt: 1, default: 2, help: 'trials training at once, each in its own worker' },
  method: {
    kind: 'string',
    default: 'bayesian',
    help: 'bayesian (Gaussian process + expected improvement), random or grid',
  },
  epochs: { kind: 'number', minInt: 1, default: 1, help: 'epochs per trial' },
  'batch-size': { kind: 'number', minInt: 1, default: 64, help: 'samples per gradient step' },
  limit: { kind: 'number', minInt: 1, help: 'use only the first n training and test samples' },
  'validation-split': { kind: 'number', default: 0.2, help: 'fraction of the training data each trial is scored on' },
  seed: { kind: 'number', minInt: 0, default: 1, help: 'seed of the search and of every trial' },
  out: { kind: 'string', help: 'directory for study.json (an existing one is resumed)' },
};

const METHODS: readonly Method[] = ['bayesian', 'random', 'grid'];

/** The space searched: Adam's learning rate, the hidden width and the dropout rate. */
export const TUNE_SPACE = {
  learningRate: logUniform(1e-4, 1e-2),
  units: int(16, 512, { log: true }),
  dropout: uniform(0, 0.5),
};

function mlp(hp: Params, inputShape: number[], classes: number): Sequential {
  const flat = inputShape.length === 1;
  const model = sequential({
    name: 'mlp',
    layers: [
      ...(flat ? [] : [layers.flatten({ inputShape })]),
      layers.dense({
        units: hp.units as number,
        activation: 'relu',
        kernelInitializer: 'heUniform',
        ...(flat ? { inputShape } : {}),
      }),
      layers.dropout({ rate: hp.dropout as number, seed: 1 }),
      layers.dense({ units: classes, activation: 'softmax' }),
    ],
  });
  model.compile({
    optimizer: optimizers.adam({ learningRate: hp.learningRate as number }),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return model;
}

const fmtParams = (p: Params) =>
  `learningRate ${(p.learningRate as number).toExponential(2)}  units ${p.units}  dropout ${(p.dropout as number).toFixed(3)}`;

/** Runs `wasmgrad tune`. */
export async function tune(argv: string[], say: (line: string) => void): Promise<void> {
  const { flags, positionals } = parseFlags('tune', argv, TUNE_FLAGS);
  if (positionals.length > 0) throw new UsageError('tune', `unexpected argument '${positionals[0]}'`);
  const method = flags.method as Method;
  if (!METHODS.includes(method))
    throw new UsageError('tune', `--method must be ${METHODS.join(', ')}, got '${method}'`);
  const split = flags['validation-split'] as number;
  if (!(split > 0 && split < 1)) throw new UsageError('tune', `--validation-split must be in (0, 1), got ${split}`);
  const seed = flags.seed as number;
  setSeed(seed);
  await ready();
  const data = await loadData(flags.data as string, {
    flatten: false,
    label: flags.label as string | undefined,
    testFraction: 0.2,
    seed,
    ...(flags.limit ? { limit: flags.limit as number } : {}),
  });
  const dir = flags.out as string | undefined;
  const studyPath = dir === undefined ? undefined : join(dir, 'study.json');
  const resumed = studyPath !== undefined && existsSync(studyPath) ? readFileSync(studyPath, 'utf8') : undefined;
  if (dir !== undefined) mkdirSync(dir, { recursive: true });
  say(`tuning the MLP on ${data.source}: ${flags.trials} trials, ${flags.parallel} at once, ${method}`);
  if (resumed) say(`resuming the study in ${studyPath}`);
  const t0 = performance.now();
  const study = await search({
    ...(resumed ? { study: resumed } : { space: TUNE_SPACE, method, seed }),
    build: (hp) => mlp(hp, data.inputShape, data.classes),
    data: { x: data.train.x, y: data.train.y, validationSplit: split },
    objective: 'val_accuracy',
    epochs: flags.epochs as number,
    batchSize: flags['batch-size'] as number,
    maxTrials: flags.trials as number,
    parallel: flags.parallel as number,
    onTrial: (trial, s) => {
      const value = trial.value === undefined ? trial.state : trial.value.toFixed(4);
      say(`trial ${String(trial.number + 1).padStart(3)}  val_accuracy ${value}  ${fmtParams(trial.params)}`);
      if (studyPath !== undefined) writeFileSync(studyPath, `${JSON.stringify(s.toJSON())}\n`);
    },
  });
  say('');
  say(study.format());
  const best = study.best;
  if (!best?.params || best.value === undefined) throw new UsageError('tune', 'no trial finished');
  say(`best: val_accuracy ${best.value.toFixed(4)} with ${fmtParams(best.params)}`);
  say(`(${((performance.now() - t0) / 1000).toFixed(1)} s${studyPath ? `; study saved in ${studyPath}` : ''})`);
}
