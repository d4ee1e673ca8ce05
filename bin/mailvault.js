#!/usr/bin/env node
// The executable: the compiled CLI, bundled into dist/bundle/ (scripts/bundle.mjs), built by
// `npm ci` in a checkout (its postprepare script) and shipped built in the package `npm pack` makes.
import { main } from '../dist/bundle/main.js';

// A reader that stops early (`mailvault snapshots | head`) has what it wanted: end quietly.
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv.slice(2));
// The command is done and has said so. If something still holds the process open after this (a
// socket to a server that stopped answering), it ends anyway rather than hang a cron job.
globalThis.setTimeout(() => process.exit(), 3000).unref();
