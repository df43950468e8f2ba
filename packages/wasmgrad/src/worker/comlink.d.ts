// comlink 4.4.2 ships ESM builds as .mjs with types beside them as .d.ts, which TypeScript does not
// pair with a .mjs specifier; these declarations point the ESM paths at the package's own types.
declare module 'comlink/dist/esm/comlink.mjs' {
  export * from 'comlink';
}

declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  /** A Node MessagePort or Worker seen as a comlink endpoint. */
  export default function nodeEndpoint(port: {
    postMessage(message: unknown, transfer?: readonly unknown[]): void;
    on(type: string, listener: (value: unknown) => void): void;
    off(type: string, listener: (value: unknown) => void): void;
    start?: () => void;
  }): Endpoint;
}
