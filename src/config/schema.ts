import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { compileExclude, ExcludePatternError } from '../sources/files/exclude-matcher.js';
import { parseByteSize } from '../storage/cache/byte-size.js';
import { repositoryUrlProblem } from '../storage/repository-url.js';
import { parseTimeoutMs } from './duration.js';
import { port, seconds, wholeNumber } from './numbers.js';

/**
 * The configuration file (mailvault.yml), as described in the README. Every object is strict, so
 * a misspelt key is reported by name instead of silently ignored.
 */
const nonEmpty = z.string().min(1, 'must not be empty');

/** A shell command line: spaces alone would run nothing, every time. */
const commandLine = nonEmpty.refine((line) => line.trim() !== '', 'must not be blank');

const accountEntry = z.union([
  nonEmpty,
  z.strictObject({ name: nonEmpty, passwordFile: nonEmpty }),
]);

const imapAuth = z.strictObject({
  /** authzid: SASL PLAIN with an authorization identity; master: LOGIN "account*user"; per-account: each account's own password. */
  mode: z.enum(['authzid', 'master', 'per-account']),
  user: nonEmpty.optional(),
  passwordFile: nonEmpty.optional(),
  /** Separator of the master-user login (Dovecot's auth_master_user_separator). */
  masterSeparator: nonEmpty.default('*'),
});

/** Snapshots kept per period by retention: far beyond any real policy, refused as a typo above. */
const MAX_KEEP = 1_000_000;

/** A day: longer than any server takes to answer, and well within what a timer can wait. */
const MAX_IMAP_TIMEOUT_SECONDS = 86_400;

const imap = z.strictObject({
  host: nonEmpty,
  port: port.optional(),
  tls: z.enum(['implicit', 'starttls', 'none']).default('implicit'),
  /** Check the server's certificate (turn off only for self-signed test servers). */
  verifyCertificate: z.boolean().default(true),
  caFile: nonEmpty.optional(),
  auth: imapAuth,
  /** Connection attempts and retries after a dropped connection. */
  retries: wholeNumber(0, 20).default(3),
  /** Seconds to wait for the server before giving up on a connection or command. */
  timeout: seconds(MAX_IMAP_TIMEOUT_SECONDS).default(60),
});

const accounts = z
  .strictObject({
    list: z.array(accountEntry).min(1, 'name at least one account').optional(),
    passwdFile: nonEmpty.optional(),
    command: commandLine.optional(),
  })
  .refine(
    (value) =>
      [value.list, value.passwdFile, value.command].filter((v) => v !== undefined).length === 1,
    {
      message: 'give exactly one of list, passwdFile or command',
    },
  );

const server = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash or underscore')
    .refine((name) => name !== 'files' && name !== 'commands', {
      message: '"files" and "commands" name the snapshots of file sets and commands',
    }),
  imap,
  dav: z
    .strictObject({
      url: nonEmpty,
      /** Credentials for DAV; without them, the IMAP administrator's (or each account's own). */
      auth: z.strictObject({ user: nonEmpty, passwordFile: nonEmpty }).optional(),
      /**
       * Where an account's principal lives below the DAV root when an administrator reads it,
       * e.g. "{account}/" (Radicale) or "principals/users/{account}/"; without it the account's
       * own login finds it (current-user-principal).
       */
      principalPath: nonEmpty.optional(),
      verifyCertificate: z.boolean().default(true),
      caFile: nonEmpty.optional(),
    })
    .optional(),
  accounts,
  provisioning: z.strictObject({ command: commandLine }).optional(),
});

/** File sets and commands are named on the command line and in snapshot listings. */
const setName = z
  .string()
  .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash or underscore');

const duration = z.string().regex(/^\d+[mhdDwWMyY]$/, 'a duration such as 90d, 12h, 4w, 6M or 1y');

/**
 * A file set's include path. The walk starts from it as written, so a relative one would depend
 * on the folder mailvault happens to be started from.
 */
const includePath = nonEmpty.refine((path) => isAbsolute(path), {
  error: (issue) =>
    `${JSON.stringify(issue.input)} is relative: include paths must be absolute, such as /etc/dovecot` +
    (String(issue.input).startsWith('~') ? ' (~ is not expanded here)' : ''),
});

/** Compiled once here, as the backup will compile it, so that a bad one stops nothing halfway. */
const excludePattern = nonEmpty.superRefine((pattern, context) => {
  try {
    compileExclude(pattern);
  } catch (error) {
    if (!(error instanceof ExcludePatternError)) throw error;
    context.addIssue({
      code: 'custom',
      message: `${JSON.stringify(pattern)} is ${error.reason}`,
    });
  }
});

/** A dump that runs longer than this is taken to hang; long enough for a large database. */
export const DEFAULT_COMMAND_TIMEOUT = '6h';

/** How long a backup or restore command may run: a duration, or 0 for no limit. */
const commandTimeout = z
  .union([z.string(), z.number()])
  .refine(
    (value) => parseTimeoutMs(value) !== null,
    'a duration such as 30s, 30m, 6h or 2d (0: no limit), up to 24d',
  );

/** How long the end of a backup waits for uploads to a remote repository that make no progress. */
export const DEFAULT_UPLOAD_WAIT = '1m';
/** Room for about a night's new packs of a large server, on a disk that has it. */
export const DEFAULT_MAX_PENDING_SIZE = '10G';
/** Enough for the folder trees of many accounts besides a night's new mail. */
export const DEFAULT_KEPT_PACKS = '2G';

const uploadWait = z
  .union([z.string(), z.number()])
  .refine(
    (value) => parseTimeoutMs(value) !== null,
    'a duration such as 30s, 5m or 1h (0: do not wait), up to 24d',
  );

const byteSize = z
  .union([z.string(), z.number()])
  .refine((value) => parseByteSize(value) !== null, 'a size such as 10G, 500M or 0');

export const configSchema = z.strictObject({
  repository: z.strictObject({
    url: nonEmpty.superRefine((url, context) => {
      const problem = repositoryUrlProblem(url);
      if (problem !== null) context.addIssue({ code: 'custom', message: problem });
    }),
    passwordFile: nonEmpty.optional(),
    /** For sftp:// URLs: paths are relative to the configuration file. */
    sftp: z
      .strictObject({
        /** The private key (OpenSSH's word for it, as in ssh_config). */
        identityFile: nonEmpty.optional(),
        /** The older name of identityFile, still accepted. */
        keyFile: nonEmpty.optional(),
        /** The password, or the key's passphrase when identityFile is set. */
        passwordFile: nonEmpty.optional(),
        knownHostsFile: nonEmpty.optional(),
        acceptUnknownHostKey: z.boolean().optional(),
      })
      .refine((sftp) => sftp.identityFile === undefined || sftp.keyFile === undefined, {
        message:
          'identityFile and keyFile are two names for the same key file: give one of them, not both',
      })
      .transform(({ keyFile, identityFile, ...rest }) => {
        const key = identityFile ?? keyFile;
        return { ...rest, ...(key === undefined ? {} : { identityFile: key }) };
      })
      .optional(),
    /** For s3:// URLs (endpoint, region and path style go in the URL's query). */
    s3: z
      .strictObject({
        accessKeyIdFile: nonEmpty.optional(),
        secretAccessKeyFile: nonEmpty.optional(),
        profile: nonEmpty.optional(),
      })
      .refine(
        (s3) => (s3.accessKeyIdFile === undefined) === (s3.secretAccessKeyFile === undefined),
        {
          message: 'give accessKeyIdFile and secretAccessKeyFile together',
        },
      )
      .optional(),
    /**
     * For sftp:// and s3:// URLs: a local cache of the repository's metadata, and of saves
     * waiting to upload (a backup goes on while the remote is out of reach).
     */
    cache: z
      .strictObject({
        /** Relative to the configuration file; default: mailvault-cache beside the catalog file. */
        dir: nonEmpty.optional(),
        uploadWait: uploadWait.default(DEFAULT_UPLOAD_WAIT),
        /** Bytes waiting to upload above which a backup waits for the remote to take them. */
        maxPendingSize: byteSize.default(DEFAULT_MAX_PENDING_SIZE),
        /** Packs kept after upload, for a backup that starts while the remote is down. */
        keptPacks: byteSize.default(DEFAULT_KEPT_PACKS),
      })
      .default({
        uploadWait: DEFAULT_UPLOAD_WAIT,
        maxPendingSize: DEFAULT_MAX_PENDING_SIZE,
        keptPacks: DEFAULT_KEPT_PACKS,
      }),
  }),
  catalog: z.strictObject({ url: nonEmpty }).default({ url: './catalog.sqlite' }),
  servers: z.array(server).default([]),
  backup: z
    .strictObject({
      /** Accounts backed up at the same time. */
      concurrency: wholeNumber(1, 64).default(4),
      /** Threads that compress and encrypt (default: one per core; 0: none). */
      workers: wholeNumber(0, 8).optional(),
    })
    .default({ concurrency: 4 }),
  restore: z
    .strictObject({
      /** Messages sent in one MULTIAPPEND command. */
      batchSize: wholeNumber(1, 1000).default(100),
      /** Threads that decrypt and put messages together (default: one per core; 0: none). */
      workers: wholeNumber(0, 8).optional(),
    })
    .default({ batchSize: 100 }),
  files: z
    .array(
      z.strictObject({
        name: setName,
        include: z
          .array(includePath, 'give the absolute paths to back up, such as [/etc/dovecot]')
          .min(1, 'give at least one absolute path to back up, such as /etc/dovecot'),
        exclude: z.array(excludePattern).default([]),
      }),
    )
    .default([]),
  commands: z
    .array(
      z.strictObject({
        name: setName,
        backup: commandLine,
        restore: commandLine.optional(),
        timeout: commandTimeout.default(DEFAULT_COMMAND_TIMEOUT),
      }),
    )
    .default([]),
  retention: z
    .strictObject({
      keepWithin: duration.optional(),
      keepLast: wholeNumber(0, MAX_KEEP).optional(),
      keepDaily: wholeNumber(0, MAX_KEEP).optional(),
      keepWeekly: wholeNumber(0, MAX_KEEP).optional(),
      keepMonthly: wholeNumber(0, MAX_KEEP).optional(),
      keepYearly: wholeNumber(0, MAX_KEEP).optional(),
      deletedItems: duration.optional(),
      legalHold: z.array(nonEmpty).default([]),
    })
    .optional(),
  /**
   * A cron line per kind of run, and the zone they are read in. Strict: a misspelt kind would
   * never run, silently.
   */
  schedule: z
    .strictObject({
      timezone: nonEmpty.optional(),
      backup: nonEmpty.optional(),
      check: nonEmpty.optional(),
      forget: nonEmpty.optional(),
      prune: nonEmpty.optional(),
    })
    .transform(
      (lines) =>
        Object.fromEntries(
          Object.entries(lines).filter(([, line]) => line !== undefined),
        ) as Record<string, string>,
    )
    .optional(),
  /** `mailvault serve`: its health endpoint, and what its scheduled check reads. */
  serve: z
    .strictObject({
      /** Port of the HTTP health endpoint on 127.0.0.1; none without it. */
      healthPort: port.optional(),
      /** The scheduled check reads this share of the packs (check --read-data-subset). */
      checkReadDataSubset: z
        .string()
        .regex(/^\d+(\.\d+)?%$/, 'a percentage such as 10%')
        .refine((text) => Number(text.slice(0, -1)) > 0 && Number(text.slice(0, -1)) <= 100, {
          error: (issue) => `a percentage above 0% and at most 100%, not ${String(issue.input)}`,
        })
        .optional(),
    })
    .optional(),
  hooks: z.strictObject({ postBackup: commandLine.optional() }).optional(),
  notify: z
    .strictObject({
      smtp: z.strictObject({
        host: nonEmpty,
        port: port.default(25),
        from: nonEmpty,
        secure: z.boolean().optional(),
        user: nonEmpty.optional(),
        passwordFile: nonEmpty.optional(),
      }),
      admins: z.array(nonEmpty).default([]),
    })
    .optional(),
  logging: z
    .strictObject({
      file: nonEmpty.optional(),
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    })
    .optional(),
});

export type Config = z.infer<typeof configSchema>;
export type ServerConfig = z.infer<typeof server>;
export type ImapConfig = z.infer<typeof imap>;
export type AccountEntry = z.infer<typeof accountEntry>;
