/**
 * The `wasmgrad` command: train, evaluate, predict and summary, in Node (`npx wasmgrad`) and Deno
 * (`deno run -A npm:wasmgrad/cli` or the file). Exit codes: 0 success, 1 failure (the typed
 * error's message), 2 a command-line mistake.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import type { Callback } from '../callbacks/callback.js';
import { BACKUP_FILE, BackupAndRestore } from '../callbacks/checkpoint.js';
import { WasmgradError } from '../errors.js';
import { loadModel, saveModel } from '../io/model-io.js';
import type { LayersModel } from '../model/model.js';
import { getOptimizer } from '../optimizers/optimizers.js';
import { setSeed } from '../random.js';
import { getThreads, ready, runtime, setThreads } from '../runtime/runtime.js';
import { type FlagSpec, flagHelp, type Parsed, parseFlags, UsageError } from './args.js';
import { buildModel, type CsvPreprocessing, type LoadedData, loadData } from './models.js';
import { formatLogs, progressCallback } from './progress.js';
import { curvesSvg } from './svg.js';
import { TUNE_FLAGS, tune } from './tune.js';

const out = process.stdout;
const say = (line: string) => out.write(`${line}\n`);

const DATA_FLAG: FlagSpec = {
  kind: 'string',
  default: 'fashion-mnist',
  help: 'fashion-mnist, a directory of MNIST-format IDX files, or a CSV file',
};
const LABEL_FLAG: FlagSpec = { kind: 'string', help: 'CSV: the label column (categorical)' };
const LIMIT_FLAG: FlagSpec = { kind: 'number', minInt: 1, help: 'use only the first n training and test samples' };

const TRAIN_FLAGS: Record<string, FlagSpec> = {
  model: { kind: 'string', default: 'cnn', help: 'mlp, cnn, or a model JSON file (model.toJSON())' },
  data: DATA_FLAG,
  epochs: { kind: 'number', minInt: 1, default: 1, help: 'passes over the training data' },
  'batch-size': { kind: 'number', minInt: 1, default: 64, help: 'samples per gradient step' },
  optimizer: { kind: 'string', default: 'adam', help: 'sgd, adam, adamw, rmsprop, adagrad, adadelta, adamax, nadam' },
  'learning-rate': { kind: 'number', positive: true, help: "the optimizer's learning rate (default: its own)" },
  seed: { kind: 'number', minInt: 0, default: 1, help: 'seed of initialization, shuffling and dropout' },
  threads: { kind: 'number', minInt: 1, help: 'kernel threads (default: up to 4 where shared memory allows)' },
  'validation-split': { kind: 'number', default: 0, help: 'fraction of the training data held out' },
  label: LABEL_FLAG,
  'test-split': { kind: 'number', default: 0.2, help: 'CSV: fraction of the rows held out for testing' },
  limit: LIMIT_FLAG,
  out: { kind: 'string', help: 'directory to save the model, history.json and curves.svg in' },
  resume: {
    kind: 'boolean',
    help: 'continue an interrupted run from <out>/backup (exactly where its last backup was)',
  },
  'checkpoint-every': {
    kind: 'number',
    minInt: 1,
    help: 'with --out: also back up every n batches (default: at the end of each epoch)',
  },
};
const EVAL_FLAGS: Record<string, FlagSpec> = {
  data: { ...DATA_FLAG, help: `${DATA_FLAG.help} (a CSV model reads it as it was trained)` },
  'batch-size': { kind: 'number', minInt: 1, default: 256, help: 'samples per forward pass' },
  limit: LIMIT_FLAG,
};
const PREDICT_FLAGS: Record<string, FlagSpec> = {
  data: DATA_FLAG,
  count: { kind: 'number', minInt: 1, default: 10, help: 'how many test samples to predict' },
  json: { kind: 'boolean', help: 'print one JSON object per sample instead of a table' },
};
const SUMMARY_FLAGS: Record<string, FlagSpec> = {};

const USAGE = `wasmgrad: train neural networks on WebAssembly SIMD kernels

Usage:
  wasmgrad train [flags]             train a model and print its test accuracy
  wasmgrad evaluate <model-dir>      loss and accuracy of a saved model on the test split
  wasmgrad predict <model-dir>       class predictions for the first test samples
  wasmgrad summary <mlp|cnn|model-dir|model.json>
                                     the layers, output shapes and parameter counts
  wasmgrad tune [flags]              Bayesian search of the MLP's learning rate, units and dropout
  wasmgrad <command> --help          the flags of a command

Exit codes: 0 success, 1 failure, 2 a command-line mistake.`;

const commandHelp = (name: string, args: string, flags: Record<string, FlagSpec>) =>
  `Usage: wasmgrad ${name}${args}\n\nFlags:\n${flagHelp(flags) || '  (none)'}`;

const PREPROCESSING_FILE = 'preprocessing.json';

/** Fits the data's tensors to the model's per-sample shape (e.g. images [28,28,1] for a [784] input). */
function matchInput(model: LayersModel, data: LoadedData): void {
  const want = model.inputShape;
  if (want.join(',') === data.inputShape.join(',')) return;
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  if (size(want) !== size(data.inputShape)) {
    throw new UsageError('train', `the model takes samples of shape [${want}], the data has [${data.inputShape}]`);
  }
  for (const part of [data.train, data.test]) part.x = part.x.reshape([part.x.shape[0] as number, ...want]);
  data.inputShape = [...want];
}

async function train(argv: string[]): Promise<void> {
  const { flags, positionals } = parseFlags('train', argv, TRAIN_FLAGS);
  if (positionals.length > 0) throw new UsageError('train', `unexpected argument '${positionals[0]}'`);
  const split = flags['validation-split'] as number;
  if (!(split >= 0 && split < 1)) throw new UsageError('train', `--validation-split must be in [0, 1), got ${split}`);
  const testSplit = flags['test-split'] as number;
  if (!(testSplit > 0 && testSplit < 1))
    throw new UsageError('train', `--test-split must be in (0, 1), got ${testSplit}`);
  const dir = flags.out as string | undefined;
  const backupDir = dir === undefined ? undefined : join(dir, 'backup');
  const hasBackup = backupDir !== undefined && existsSync(join(backupDir, BACKUP_FILE));
  if (flags.resume && !hasBackup) {
    throw new UsageError('train', `--resume needs a backup in <out>/backup; ${backupDir ?? '(no --out)'} has none`);
  }
  if (hasBackup && !flags.resume) {
    throw new UsageError(
      'train',
      `${backupDir} holds the backup of an interrupted run: pass --resume to continue it, or delete it`,
    );
  }
  setSeed(flags.seed as number);
  await ready();
  if (flags.threads !== undefined) await setThreads(flags.threads as number);
  const data = await loadData(flags.data as string, {
    flatten: false,
    label: flags.label as string | undefined,
    testFraction: testSplit,
    seed: flags.seed as number,
    ...(flags.limit ? { limit: flags.limit as number } : {}),
  });
  const model = buildModel(flags.model as string, data.inputShape, data.classes);
  matchInput(model, data);
  const threads = getThreads();
  say(
    `wasmgrad ${runtime().simd ? 'SIMD128' : 'scalar'} build, ${threads} thread${threads === 1 ? '' : 's'}; data: ${data.source}`,
  );
  const lr = flags['learning-rate'] as number | undefined;
  const optimizer = getOptimizer(flags.optimizer as never);
  if (lr !== undefined) optimizer.learningRate = lr;
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  model.summary(say);
  const epochs = flags.epochs as number;
  const batchSize = flags['batch-size'] as number;
  const n = data.train.x.shape[0] as number;
  const trainN = n - Math.floor(n * split);
  const sink = { write: (s: string) => out.write(s), isTTY: Boolean(out.isTTY), columns: out.columns };
  const callbacks: Callback[] = [progressCallback(sink, epochs, trainN, batchSize)];
  let backup: BackupAndRestore | undefined;
  if (backupDir !== undefined) {
    const every = flags['checkpoint-every'] as number | undefined;
    backup = new BackupAndRestore({ backupDir, ...(every ? { saveFreq: every } : {}) });
    callbacks.unshift(backup);
  } else if (flags['checkpoint-every'] !== undefined) {
    throw new UsageError('train', '--checkpoint-every needs --out (the backup lives in <out>/backup)');
  }
  const t0 = performance.now();
  const history = await model.fit(data.train.x, data.train.y, {
    epochs,
    batchSize,
    validationSplit: split,
    seed: flags.seed as number,
    callbacks,
  });
  if (backup?.restoredFrom) {
    const at = backup.restoredFrom;
    say(`resumed from the backup at epoch ${at.epoch + 1}, batch ${at.batch}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const test = model.evaluate(data.test.x, data.test.y, { batchSize: 256 });
  say(
    `test: ${formatLogs(test)}  (${data.test.x.shape[0]} samples; trained ${epochs} epoch(s) in ${seconds.toFixed(1)} s)`,
  );
  if (dir !== undefined) {
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
      classNames: data.classNames,
      history: history.history,
      test,
    };
    writeFileSync(join(dir, 'history.json'), `${JSON.stringify(record, null, 2)}\n`);
    writeFileSync(join(dir, 'curves.svg'), curvesSvg(history.history, `${flags.model} on ${flags.data}`));
    if (data.preprocessing) {
      writeFileSync(join(dir, PREPROCESSING_FILE), `${JSON.stringify(data.preprocessing, null, 2)}\n`);
    }
    say(`saved the model, history.json and curves.svg in ${dir}`);
  }
}

/** A saved model (compiled for evaluation), its data read the way it was trained on. */
async function openSaved(
  command: string,
  positionals: string[],
  flags: Parsed['flags'],
  limit?: number,
): Promise<{ model: LayersModel; data: LoadedData; classNames: string[] | undefined }> {
  if (positionals.length !== 1) {
    throw new UsageError(
      command,
      `expects one model directory (from train --out), got ${positionals.length} arguments`,
    );
  }
  const dir = positionals[0] as string;
  await ready();
  const model = await loadModel(dir);
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const prePath = join(dir, PREPROCESSING_FILE);
  const preprocessing = existsSync(prePath)
    ? (JSON.parse(readFileSync(prePath, 'utf8')) as CsvPreprocessing)
    : undefined;
  const data = await loadData(flags.data as string, {
    flatten: false,
    testFraction: 0.2,
    seed: 1,
    ...(limit ? { limit } : {}),
    ...(preprocessing ? { preprocessing } : {}),
  });
  matchInput(model, data);
  const historyPath = join(dir, 'history.json');
  const classNames = existsSync(historyPath)
    ? ((JSON.parse(readFileSync(historyPath, 'utf8')) as { classNames?: string[] }).classNames ?? data.classNames)
    : data.classNames;
  return { model, data, classNames };
}

async function evaluate(argv: string[]): Promise<void> {
  const { flags, positionals } = parseFlags('evaluate', argv, EVAL_FLAGS);
  const { model, data } = await openSaved('evaluate', positionals, flags, flags.limit as number | undefined);
  const logs = model.evaluate(data.test.x, data.test.y, { batchSize: flags['batch-size'] as number });
  say(`test: ${formatLogs(logs)}  (${data.test.x.shape[0]} samples of ${data.source})`);
}

async function predict(argv: string[]): Promise<void> {
  const { flags, positionals } = parseFlags('predict', argv, PREDICT_FLAGS);
  const count = flags.count as number;
  const { model, data, classNames } = await openSaved('predict', positionals, flags);
  const rows = Math.min(count, data.testLabels.length);
  const x = data.test.x;
  const probs = model.predict(x).dataSync();
  const classes = probs.length / (x.shape[0] as number);
  const name = (c: number) => classNames?.[c] ?? '';
  for (let i = 0; i < rows; i++) {
    const p = probs.subarray(i * classes, (i + 1) * classes);
    let best = 0;
    for (let c = 1; c < classes; c++) if ((p[c] as number) > (p[best] as number)) best = c;
    const label = data.testLabels[i] as number;
    if (flags.json) {
      say(JSON.stringify({ index: i, predicted: best, probability: p[best], label }));
    } else {
      say(
        `${String(i).padStart(4)}  predicted ${String(best).padStart(2)} ${name(best).padEnd(12)} ` +
          `p=${(p[best] as number).toFixed(3)}  true ${String(label).padStart(2)} ${name(label)}${best === label ? '' : '  ✗'}`,
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
  const model = saved ? await loadModel(spec) : buildModel(spec, spec === 'mlp' ? [784] : [28, 28, 1], 10);
  model.summary(say);
}

const COMMANDS: Record<string, [(argv: string[]) => Promise<void>, string, Record<string, FlagSpec>]> = {
  train: [train, ' [flags]', TRAIN_FLAGS],
  evaluate: [evaluate, ' <model-dir> [flags]', EVAL_FLAGS],
  predict: [predict, ' <model-dir> [flags]', PREDICT_FLAGS],
  summary: [summary, ' <mlp|cnn|model-dir|model.json>', SUMMARY_FLAGS],
  tune: [(argv) => tune(argv, say), ' [flags]', TUNE_FLAGS],
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
