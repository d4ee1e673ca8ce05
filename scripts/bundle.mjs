// Bundles the compiled CLI (dist/, from tsc) into dist/bundle/: the CLI's entry and the worker
// threads' scripts, with the pure-JavaScript dependencies inside and each lazily imported part in
// a chunk of its own. A command then loads a few dozen files instead of about 700 (kysely, zod and
// the AWS SDK are hundreds of small modules each), which halves the CPU a short command spends
// before doing anything. Native addons stay outside, loaded from node_modules as before.
//
// Every file lands in the one folder, dist/bundle/, two levels below the package root as the
// compiled modules are: their `new URL('./x-worker.js', import.meta.url)` and
// `new URL('../../bin/mailvault.js', import.meta.url)` find the same files from there.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: {
    main: 'dist/cli/main.js',
    'text-worker': 'dist/catalog/text-worker.js',
    'seal-worker': 'dist/repository/sealing/seal-worker.js',
    'assembly-worker': 'dist/mailbox/assembly/assembly-worker.js',
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  // Native addons (and ssh2, which loads its optional native crypto by path) stay in node_modules.
  external: ['better-sqlite3', 'zstd-napi', 'ssh2', 'cpu-features'],
  // CommonJS dependencies inside an ES module bundle still call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __mailvaultRequire } from 'node:module'; const require = __mailvaultRequire(import.meta.url);",
  },
  // The bundled packages' licence notices stay with their code.
  legalComments: 'eof',
  logLevel: 'warning',
});
