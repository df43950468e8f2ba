/**
 * The `wasmgrad` command: train, evaluate, predict and summary, in Node (`npx wasmgrad`) and Deno
 * (`deno run -A npm:wasmgrad/cli` or the file). Exit codes: 0 success, 1 failure (the typed
 * error's message), 2 a command-line mistake.
 * @module
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { WasmgradError } from '../errors.js';
import { loadModel, saveModel } from '../io/model-io.js';
import type { Sequential } from '../model/model.js';
import { getOptimizer } from '../optimizers/optimizers.js';
import { setSeed } from '../random.js';
import { ready, runtime } from '../runtime/runtime.js';
import { type FlagSpec, flagHelp, parseFlags, UsageError } from './args.js';
import { buildModel, loadData } from './models.js';
import { formatLogs, progressCallback } from './progress.js';
import { curvesSvg } from './svg.js';

const out = process.stdout;
const say = (line: string) => out.write(`${line}\n`);

const DATA_FLAG: FlagSpec = {
  kind: 'string',
  default: 'fashion-mnist',
  help: 'fashion-mnist, or a directory of MNIST-format IDX files',
};
const LIMIT_FLAG: FlagSpec = { kind: 'number', minInt: 1, help: 'use only the first n training and test samples' };

const TRAIN_FLAGS: Record<string, FlagSpec> = {
  model: { kind: 'string', default: 'cnn', help: 'mlp, cnn, or a model JSON file (model.toJSON())' },
  data: DATA_FLAG,
  epochs: { kind: 'number', minInt: 1, default: 1, help: 'passes over the training data' },
  'batch-size': { kind: 'number', minInt: 1, default: 64, help: 'samples per gradient step' },
  optimizer: { kind: 'string', default: 'adam', help: 'sgd, adam, adamw, rmsprop, adagrad, adadelta, adamax, nadam' },
  'learning-rate': { kind: 'number', positive: true, help: "the optimizer's learning rate (default: its own)" },
  seed: { kind: 'number', minInt: 0, default: 1, help: 'seed of initialization, shuffling and dropout' },
  'validation-split': { kind: 'number', default: 0, help: 'fraction of the training data held out' },
  limit: LIMIT_FLAG,
  out: { kind: 'string', help: 'directory to save the model, history.json and curves.svg in' },
};
const EVAL_FLAGS: Record<string, FlagSpec> = {
  data: DATA_FLAG,
  'batch-size': { kind: 'number', minInt: 1, default: 256, help: 'samples per forward pass' },
  limit: LIMIT_FLAG,
};
const PREDICT_FLAGS: Record<string, FlagSpec> = {
  data: DATA_FLAG,
  count: { kind: 'number', minInt: 1, default: 10, help: 'how many test samples to predict' },
  json: { kind: 'boolean', help: 'print one JSON object per sample instead of a table' },
};
const SUMMARY_FLAGS: Record<string, FlagSpec> = {};

const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Boot'];

const USAGE = `wasmgrad: train neural networks on WebAssembly SIMD kernels

Usage:
  wasmgrad train [flags]             train a model and print its test accuracy
  wasmgrad evaluate <model-dir>      loss and accuracy of a saved model on the test split
  wasmgrad predict <model-dir>       class predictions for the first test samples
  wasmgrad summary <mlp|cnn|model-dir|model.json>
                                     the layers, output shapes and parameter counts
  wasmgrad <command> --help          the flags of a command

Exit codes: 0 success, 1 failure, 2 a command-line mistake.`;

const commandHelp = (name: string, args: string, flags: Record<string, FlagSpec>) =>
  `Usage: wasmgrad ${name}${args}\n\nFlags:\n${flagHelp(flags) || '  (none)'}`;

const isInputFlat = (model: Sequential) => model.inputShape.length === 1;

async function train(argv: string[]): Promise<void> {
  const { flags, positionals } = parseFlags('train', argv, TRAIN_FLAGS);
  if (positionals.length > 0) throw new UsageError('train', `unexpected argument '${positionals[0]}'`);
  const split = flags['validation-split'] as number;
  if (!(split >= 0 && split < 1)) throw new UsageError('train', `--validation-split must be in [0, 1), got ${split}`);
  setSeed(flags.seed as number);
  await ready();
  const model = buildModel(flags.model as string);
  const data = await loadData(flags.data as string, isInputFlat(model), flags.limit as number | undefined);
  say(`wasmgrad ${runtime().simd ? 'SIMD128' : 'scalar'} build; data: ${data.source}`);
  const lr = flags['learning-rate'] as number | undefined;
  const optimizer = getOptimizer(flags.optimizer as never);
  if (lr !== undefined) optimizer.learningRate = lr;
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  model.summary(say);
  const epochs = flags.epochs as number;
  const batchSize = flags['batch-size'] as number;
  const n = data.train.x.shape[0] as number;
  const trainN = n - Math.floor(n * split);
  const t0 = performance.now();
  const history = await model.fit(data.train.x, data.train.y, {
    epochs,
    batchSize,
    validationSplit: split,
    seed: flags.seed as number,
    callbacks: progressCallback(
      { write: (s) => out.write(s), isTTY: Boolean(out.isTTY), columns: out.columns },
      epochs,
      trainN,
      batchSize,
    ),
  });
  const seconds = (performance.now() - t0) / 1000;
  const test = model.evaluate(data.test.x, data.test.y, { batchSize: 256 });
  say(
    `test: ${formatLogs(test)}  (${data.test.x.shape[0]} samples; trained ${epochs} epoch(s) in ${seconds.toFixed(1)} s)`,
  );
  if (flags.out !== undefined) {
    const dir = flags.out as string;
    mkdirSync(dir, { recursive: true });
    await saveModel(model, dir);
    const record = {
      model: flags.model,
      data: data.source,
      epochs,
      batchSize,
      optimizer: flags.optimizer,
      learningRate: optimizer.learningRate,
      seed: flags.seed,
      history: history.history,
      test,
    };
    writeFileSync(join(dir, 'history.json'), `${JSON.stringify(record, null, 2)}\n`);
    writeFileSync(join(dir, 'curves.svg'), curvesSvg(history.history, `${flags.model} on ${flags.data}`));
    say(`saved the model, history.json and curves.svg in ${dir}`);
  }
}

async function openSaved(command: string, positionals: string[]): Promise<Sequential> {
  if (positionals.length !== 1) {
    throw new UsageError(
      command,
      `expects one model directory (from train --out), got ${positionals.length} arguments`,
    );
  }
  await ready();
  const model = await loadModel(positionals[0] as string);
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

async function evaluate(argv: string[]): Promise<void> {
  const { flags, positionals } = parseFlags('evaluate', argv, EVAL_FLAGS);
  const model = await openSaved('evaluate', positionals);
  const data = await loadData(flags.data as string, isInputFlat(model), flags.limit as number | undefined);
  const logs = model.evaluate(data.test.x, data.test.y, { batchSize: flags['batch-size'] as number });
  say(`test: ${formatLogs(logs)}  (${data.test.x.shape[0]} samples of ${data.source})`);
}

async function predict(argv: string[]): Promise<void> {
  const { flags, positionals } = parseFlags('predict', argv, PREDICT_FLAGS);
  const model = await openSaved('predict', positionals);
  const count = flags.count as number;
  const data = await loadData(flags.data as string, isInputFlat(model), count);
  const probs = model.predict(data.test.x).dataSync();
  const classes = probs.length / (data.test.x.shape[0] as number);
  const rows = Math.min(count, data.test.labels.length);
  for (let i = 0; i < rows; i++) {
    const p = probs.subarray(i * classes, (i + 1) * classes);
    let best = 0;
    for (let c = 1; c < classes; c++) if ((p[c] as number) > (p[best] as number)) best = c;
    const label = data.test.labels[i] as number;
    if (flags.json) {
      say(JSON.stringify({ index: i, predicted: best, probability: p[best], label }));
    } else {
      say(
        `${String(i).padStart(4)}  predicted ${String(best).padStart(2)} ${(CLASSES[best] ?? '').padEnd(12)} ` +
          `p=${(p[best] as number).toFixed(3)}  true ${String(label).padStart(2)} ${CLASSES[label] ?? ''}${best === label ? '' : '  ✗'}`,
      );
    }
  }
}

async function summary(argv: string[]): Promise<void> {
  const { positionals } = parseFlags('summary', argv, SUMMARY_FLAGS);
  if (positionals.length !== 1) throw new UsageError('summary', 'expects mlp, cnn, a model directory or a model.json');
  const spec = positionals[0] as string;
  await ready();
  const saved = existsSync(spec) && statSync(spec).isDirectory();
  const model = saved ? await loadModel(spec) : buildModel(spec);
  model.summary(say);
}

const COMMANDS: Record<string, [(argv: string[]) => Promise<void>, string, Record<string, FlagSpec>]> = {
  train: [train, ' [flags]', TRAIN_FLAGS],
  evaluate: [evaluate, ' <model-dir> [flags]', EVAL_FLAGS],
  predict: [predict, ' <model-dir> [flags]', PREDICT_FLAGS],
  summary: [summary, ' <mlp|cnn|model-dir|model.json>', SUMMARY_FLAGS],
};

/** Runs the CLI on `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    say(USAGE);
    return command === undefined ? 2 : 0;
  }
  const entry = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!entry) {
    process.stderr.write(`wasmgrad: unknown command '${command}'\n\n${USAGE}\n`);
    return 2;
  }
  const [run, args, flags] = entry;
  if (rest.includes('--help') || rest.includes('-h')) {
    say(commandHelp(command, args, flags));
    return 0;
  }
  try {
    await run(rest);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`wasmgrad ${err.message}\nSee: wasmgrad ${command} --help\n`);
      return 2;
    }
    if (err instanceof WasmgradError) {
      process.stderr.write(`wasmgrad ${command}: ${err.name}: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`wasmgrad ${command}: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
