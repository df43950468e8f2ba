#!/usr/bin/env node
// Builds the kernels crate into the wasm modules the runtime chooses between at load time:
//   packages/wasmgrad/wasm/wasmgrad-simd.wasm          (SIMD128)
//   packages/wasmgrad/wasm/wasmgrad-scalar.wasm        (for engines without SIMD128)
//   packages/wasmgrad/wasm/wasmgrad-simd-threads.wasm  (SIMD128 over a shared memory: the same
//     kernels, instantiated once per helper thread; each instance gets its own stack through the
//     exported __stack_pointer, see packages/wasmgrad/src/runtime/threads.ts)
// Toolchain: rustup's stable with the wasm32 target when installed, else Debian's rustc + cargo
// (they must be used together), installed here when running as root on Debian. Both modules go
// through `wasm-opt -O3`. A build whose inputs have not changed since the last one is skipped.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'packages/wasmgrad/wasm');
const crate = 'wasmgrad-kernels';
const artifact = 'wasmgrad_kernels.wasm';
const DEBIAN_PACKAGES = ['rustc', 'cargo', 'libstd-rust-dev-wasm32', 'lld', 'binaryen'];

// The memory is imported (the TypeScript runtime owns it); the heap starts at __heap_base.
const LINK = ['-C', 'link-arg=--import-memory', '-C', 'link-arg=--export=__heap_base'];
// The shared memory must declare a maximum; 4 GiB (the wasm32 limit) accepts any maximum the
// runtime picks for the memory it creates.
const THREAD_LINK = [
  '-C',
  'link-arg=--shared-memory',
  '-C',
  'link-arg=--max-memory=4294967296',
  '-C',
  'link-arg=--export=__stack_pointer',
];
const VARIANTS = [
  { name: 'simd', features: '+simd128,+bulk-memory,+mutable-globals', opt: ['--enable-simd'], link: [] },
  { name: 'scalar', features: '+bulk-memory,+mutable-globals', opt: [], link: [] },
  {
    name: 'simd-threads',
    features: '+atomics,+bulk-memory,+simd128,+mutable-globals',
    opt: ['--enable-simd', '--enable-threads'],
    link: THREAD_LINK,
  },
];
const WASM_OPT_FEATURES = ['--enable-bulk-memory', '--enable-mutable-globals'];

const log = (msg) => process.stderr.write(`[build-wasm] ${msg}\n`);
const has = (cmd, args = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const isRootOnDebian = () => process.getuid?.() === 0 && existsSync('/etc/debian_version');

function aptInstall(packages) {
  log(`installing Debian packages: ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
}

function fail(message) {
  log(message);
  process.exit(1);
}

/** Picks a Rust toolchain that can target wasm32, installing Debian's when allowed. */
function pickToolchain() {
  if (has('rustup', ['--version'])) {
    const targets = spawnSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' });
    if (targets.status === 0 && targets.stdout.includes('wasm32-unknown-unknown')) {
      return { id: 'rustup', cargo: 'cargo', env: {} };
    }
  }
  const debian = { id: 'debian', cargo: '/usr/bin/cargo', env: { RUSTC: '/usr/bin/rustc' } };
  const debianReady = () =>
    existsSync('/usr/bin/cargo') &&
    existsSync('/usr/bin/rustc') &&
    existsSync('/usr/lib/rustlib/wasm32-unknown-unknown');
  if (debianReady()) return debian;
  if (isRootOnDebian()) {
    aptInstall(DEBIAN_PACKAGES);
    if (debianReady()) return debian;
  }
  return fail(
    'No Rust toolchain that targets wasm32 was found. Install one of:\n' +
      '  rustup target add wasm32-unknown-unknown          (with rustup)\n' +
      `  sudo apt-get install -y ${DEBIAN_PACKAGES.join(' ')}   (Debian/Ubuntu)`,
  );
}

function pickWasmOpt() {
  if (has('wasm-opt')) return 'wasm-opt';
  if (isRootOnDebian()) {
    aptInstall(['binaryen']);
    if (has('wasm-opt')) return 'wasm-opt';
  }
  return fail('wasm-opt was not found. Install binaryen: sudo apt-get install -y binaryen (or brew install binaryen).');
}

function walk(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** A hash of everything the modules are built from, to skip builds that would change nothing. */
function inputsStamp(toolchainId) {
  const files = [
    ...walk(join(root, 'crates')),
    join(root, 'Cargo.toml'),
    join(root, 'Cargo.lock'),
    fileURLToPath(import.meta.url),
  ].filter(existsSync);
  const hash = createHash('sha256').update(toolchainId);
  for (const f of files.sort()) hash.update(relative(root, f)).update(readFileSync(f));
  return hash.digest('hex');
}

const toolchain = pickToolchain();
const wasmOpt = pickWasmOpt();
const stampFile = join(outDir, '.stamp');
const stamp = inputsStamp(toolchain.id);
const outputs = VARIANTS.map((v) => join(outDir, `wasmgrad-${v.name}.wasm`));
if (
  !process.argv.includes('--force') &&
  outputs.every(existsSync) &&
  existsSync(stampFile) &&
  readFileSync(stampFile, 'utf8') === stamp
) {
  log('up to date');
  process.exit(0);
}

/** Runs a build tool; on failure its own output (already printed) says why, so exit quietly. */
function run(cmd, args, options) {
  try {
    execFileSync(cmd, args, options);
  } catch (err) {
    fail(`${cmd} ${args.slice(0, 3).join(' ')} … failed (exit ${err.status ?? err.signal ?? err.message})`);
  }
}

mkdirSync(outDir, { recursive: true });
for (const [i, variant] of VARIANTS.entries()) {
  const targetDir = join(root, 'target', `wasm-${variant.name}`);
  const rustflags = ['-C', `target-feature=${variant.features}`, ...LINK, ...variant.link].join(' ');
  log(`cargo (${toolchain.id}) → ${variant.name}`);
  run(
    toolchain.cargo,
    ['rustc', '-p', crate, '--release', '--target', 'wasm32-unknown-unknown', '--crate-type', 'cdylib', '-q'],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...toolchain.env, CARGO_TARGET_DIR: targetDir, RUSTFLAGS: rustflags },
    },
  );
  const built = join(targetDir, 'wasm32-unknown-unknown/release', artifact);
  // Written under a temporary name and renamed, so that a concurrent build or a test loading the
  // module never sees a half-written file.
  const tmp = `${outputs[i]}.${process.pid}.tmp`;
  run(wasmOpt, ['-O3', ...WASM_OPT_FEATURES, ...variant.opt, built, '-o', tmp], { stdio: 'inherit' });
  renameSync(tmp, outputs[i]);
  log(`${relative(root, outputs[i])}: ${statSync(outputs[i]).size} bytes`);
}
writeFileSync(stampFile, stamp);
