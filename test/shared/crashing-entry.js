// A worker entry for the trainer suite: the package's real one, plus a way to crash the worker on
// demand. Any message on the BroadcastChannel 'wasmgrad-suite-crash' makes it throw an uncaught
// error, as a bug or an aborted wasm instance in the worker would. (A BroadcastChannel reaches the
// workers of the same page or process, in browsers, Deno and Node alike.)
import '../../packages/wasmgrad/dist/worker/entry.js';

new BroadcastChannel('wasmgrad-suite-crash').onmessage = () => {
  setTimeout(() => {
    throw new Error('the worker crashed on purpose (trainer suite)');
  }, 0);
};
