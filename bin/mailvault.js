#!/usr/bin/env node
// The executable: the compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
// The command is done and has said so. If something still holds the process open after this (a
// socket to a server that stopped answering), it ends anyway rather than hang a cron job.
globalThis.setTimeout(() => process.exit(), 3000).unref();
