// Lint rules, including the layering of src/: each folder may only reach the folders
// below it, so the architecture stays the one the folder names describe.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Forbid imports of the named top-level folders of src/ from the files matched by `files`. */
function layer(files, forbidden, why) {
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `(^|/)(${forbidden.join('|')})/`,
              message: why,
            },
          ],
        },
      ],
    },
  };
}

const everythingAbove = [
  'cli',
  'app',
  'backup',
  'restore',
  'export',
  'catalog',
  'maintenance',
  'notify',
  'provisioning',
];
/** What is stored besides mail, each modelled storage-side as mailbox/ models mail. */
const storageModels = ['collections', 'filesets', 'command-output'];
const everyFolder = [
  'storage',
  'repository',
  'chunking',
  'mime',
  'spool',
  'mailbox',
  ...storageModels,
  'imap',
  'dav',
  'sources',
  'targets',
  'config',
  'workers',
  'text',
  'dates',
  'hooks',
  'retention',
  'scheduler',
  'status',
  'copy',
  'daemon',
  ...everythingAbove,
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/out/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['bin/**', 'bench/**', 'test/**', 'src/cli/output/**'],
    rules: { 'no-console': 'off' },
  },
  layer(
    ['src/storage/**'],
    [
      'repository',
      'mailbox',
      ...storageModels,
      'mime',
      'chunking',
      'imap',
      'dav',
      'sources',
      'targets',
      'config',
      ...everythingAbove,
    ],
    'storage knows nothing of the repository format or of mail',
  ),
  layer(
    ['src/repository/**', 'src/chunking/**'],
    [
      'mailbox',
      ...storageModels,
      'mime',
      'imap',
      'dav',
      'sources',
      'targets',
      'config',
      ...everythingAbove,
    ],
    'the repository stores objects; it knows nothing of mail',
  ),
  layer(
    ['src/mime/**'],
    [
      'storage',
      'repository',
      'mailbox',
      ...storageModels,
      'imap',
      'dav',
      'sources',
      'targets',
      'config',
      ...everythingAbove,
    ],
    'mime works on bytes alone',
  ),
  layer(
    ['src/spool/**'],
    [
      'storage',
      'repository',
      'mailbox',
      ...storageModels,
      'imap',
      'dav',
      'sources',
      'targets',
      'config',
      ...everythingAbove,
    ],
    'a spool file holds bytes on their way in; it knows nothing of where they go',
  ),
  layer(
    ['src/imap/**', 'src/dav/**', 'src/sources/**', 'src/targets/**'],
    ['storage', 'repository', 'mailbox', ...storageModels, 'chunking', ...everythingAbove],
    'sources and targets speak to servers; they know nothing of storage',
  ),
  layer(
    ['src/mailbox/**', ...storageModels.map((folder) => `src/${folder}/**`)],
    ['imap', 'dav', 'sources', 'targets', 'config', ...everythingAbove],
    'the mailbox, collection, file-set and command-output models are storage-side; they do not talk to servers',
  ),
  layer(
    ['src/catalog/**'],
    [
      'imap',
      'dav',
      'sources',
      'targets',
      'cli',
      'app',
      'backup',
      'restore',
      'export',
      'maintenance',
      'notify',
      'provisioning',
    ],
    'the catalog is a cache below the operations',
  ),
  layer(
    ['src/backup/**'],
    ['cli', 'restore', 'export', 'maintenance', 'notify', 'provisioning'],
    'backup is an operation; only cli wires operations together',
  ),
  layer(
    ['src/restore/**'],
    ['cli', 'backup', 'export', 'maintenance', 'notify', 'provisioning'],
    'restore is an operation; only cli wires operations together',
  ),
  layer(
    ['src/maintenance/**'],
    ['cli', 'backup', 'restore', 'export', 'notify', 'provisioning'],
    'maintenance is an operation; only cli wires operations together',
  ),
  layer(
    ['src/export/**'],
    [
      'cli',
      'backup',
      'restore',
      'maintenance',
      'notify',
      'provisioning',
      'imap',
      'dav',
      'sources',
      'targets',
    ],
    'export is an operation; only cli wires operations together',
  ),
  layer(
    ['src/text/**', 'src/dates/**'],
    everyFolder,
    'text and dates are words and numbers as people read them; they stand on nothing',
  ),
  layer(
    ['src/app/**'],
    ['cli'],
    'the application core serves the CLI, the server and workers; it knows none of them',
  ),
  layer(
    [
      'src/hooks/**',
      'src/retention/**',
      'src/scheduler/**',
      'src/status/**',
      'src/copy/**',
      'src/daemon/**',
    ],
    ['cli', 'app'],
    'below the application core: the core calls them, never the other way round',
  ),
  layer(
    ['src/notify/**', 'src/provisioning/**', 'src/workers/**'],
    everyFolder.filter((folder) => folder !== 'config'),
    'notices, the provisioning hook and worker threads stand on their own; cli wires them in',
  ),
);
