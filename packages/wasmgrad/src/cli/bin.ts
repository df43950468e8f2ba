#!/usr/bin/env node
// The `wasmgrad` executable (package.json "bin"): runs the CLI and exits with its code.
import process from 'node:process';
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
