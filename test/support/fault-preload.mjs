// Loaded with `node --import` into a mailvault process under test (see fault-run.ts). It counts
// every step that changes the repository or the catalog on disk, in the order the process
// takes them, and kills the process with SIGKILL right after step FAULT_KILL_AT.
//
// A step is one of: opening a file for writing, a write, an fsync (of a file or of a folder), a
// link, rename, unlink, rm or mkdir, each of a path below one of FAULT_PATHS; and a SQLite commit
// of a database below them. SQLite writes from native code (better-sqlite3), out of reach of a
// wrapper around `fs`, so the catalog is cut where its transactions end: right after each COMMIT
// (or statement run outside a transaction). A kill inside a transaction leaves what a kill at
// the end of the previous one leaves (SQLite rolls the rest back), so those moments add nothing.
//
// Environment:
//   FAULT_PATHS    JSON object {label: absolute path}: what is watched; a label names its
//                  steps in the trace (a path's SQLite -wal, -shm and -journal files are its own)
//   FAULT_KILL_AT  the step after which the process is killed (1 = the first); absent: never
//   FAULT_TRACE    a file the steps are appended to, one a line: "N<TAB>op<TAB>label:path"; the
//                  step that kills is followed by a line "KILL"
//
// Only the main thread counts: the worker threads seal and assemble objects in memory and write
// nothing to disk.
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { resolve } from 'node:path';
import { URL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

const roots = Object.entries(JSON.parse(process.env.FAULT_PATHS ?? '{}')).map(([label, path]) => ({
  label,
  path: resolve(path),
}));
const killAt = Number(process.env.FAULT_KILL_AT ?? 0);

if (isMainThread && roots.length > 0) {
  // Captured before anything is wrapped, so writing the trace is never a step itself.
  const { openSync, writeSync, existsSync, constants } = fs;
  const traceFd = process.env.FAULT_TRACE ? openSync(process.env.FAULT_TRACE, 'a') : undefined;
  let steps = 0;

  /** The label and relative path of a watched path, or undefined. */
  const watched = (path) => {
    if (typeof path !== 'string' && !(path instanceof URL) && !Buffer.isBuffer(path)) return;
    const full = resolve(path instanceof URL ? path.pathname : path.toString());
    for (const root of roots) {
      if (full === root.path) return `${root.label}:`;
      if (full.startsWith(`${root.path}/`))
        return `${root.label}:${full.slice(root.path.length + 1)}`;
      const suffix = full.slice(root.path.length);
      if (full.startsWith(root.path) && /^-(wal|shm|journal)$/.test(suffix))
        return `${root.label}:${suffix}`;
    }
  };

  /** Records a step taken; kills the process if it is the one asked for. */
  const step = (op, where) => {
    steps++;
    if (traceFd !== undefined) writeSync(traceFd, `${steps}\t${op}\t${where}\n`);
    if (steps === killAt) {
      if (traceFd !== undefined) writeSync(traceFd, 'KILL\n');
      process.kill(process.pid, 'SIGKILL');
    }
  };

  const writes = (flags) => {
    if (flags === undefined || flags === null) return false;
    if (typeof flags === 'number')
      return (
        (flags &
          (constants.O_WRONLY |
            constants.O_RDWR |
            constants.O_CREAT |
            constants.O_TRUNC |
            constants.O_APPEND)) !==
        0
      );
    return /[wa+]/.test(String(flags));
  };

  /** Wraps fn(path, ...) of `target` so that a call on a watched path counts once it is done. */
  const afterCall = (target, name, op, paths = 1, onlyIf) => {
    const original = target[name];
    if (typeof original !== 'function') return;
    const isAsync = target === fs.promises;
    target[name] = function (...args) {
      const where = args
        .slice(0, paths)
        .map(watched)
        .find((label) => label !== undefined);
      if (where === undefined || (onlyIf && !onlyIf(...args))) return original.apply(this, args);
      if (isAsync)
        return original.apply(this, args).then((result) => {
          step(op, describe(args, paths) ?? where);
          return result;
        });
      const result = original.apply(this, args);
      step(op, describe(args, paths) ?? where);
      return result;
    };
  };
  const describe = (args, paths) =>
    paths > 1 ? args.slice(0, paths).map(watched).filter(Boolean).join(' -> ') : undefined;
  const missing = (path) => !existsSync(path);

  // fs/promises: what src/storage/local and the rest of mailvault write with.
  const promises = fs.promises;
  afterCall(promises, 'mkdir', 'mkdir', 1, missing);
  afterCall(promises, 'writeFile', 'write');
  afterCall(promises, 'appendFile', 'write');
  afterCall(promises, 'truncate', 'truncate');
  afterCall(promises, 'rename', 'rename', 2);
  afterCall(promises, 'link', 'link', 2);
  afterCall(promises, 'symlink', 'symlink', 2);
  afterCall(promises, 'copyFile', 'copy', 2);
  afterCall(promises, 'unlink', 'unlink');
  afterCall(promises, 'rm', 'rm', 1, (path) => !missing(path));
  afterCall(promises, 'rmdir', 'rmdir');

  // A FileHandle remembers the path it was opened with, so its writes and fsyncs are counted
  // (the fsync of a folder, opened for reading, too: it makes a rename durable).
  const handlePaths = new WeakMap();
  const openHandle = promises.open;
  promises.open = async function (path, flags, mode) {
    const handle = await openHandle.call(this, path, flags, mode);
    const where = watched(path);
    if (where !== undefined) {
      handlePaths.set(handle, where);
      if (writes(flags)) step('open', where);
    }
    return handle;
  };
  const probe = await openHandle(process.execPath, 'r');
  const handleProto = Object.getPrototypeOf(probe);
  await probe.close();
  for (const [name, op] of [
    ['write', 'write'],
    ['writev', 'write'],
    ['writeFile', 'write'],
    ['appendFile', 'write'],
    ['truncate', 'truncate'],
    ['sync', 'fsync'],
    ['datasync', 'fsync'],
  ]) {
    const original = handleProto[name];
    handleProto[name] = async function (...args) {
      const result = await original.apply(this, args);
      const where = handlePaths.get(this);
      if (where !== undefined) step(op, where);
      return result;
    };
  }

  // The synchronous calls, for the few places that use them; descriptors are tracked like handles.
  afterCall(fs, 'mkdirSync', 'mkdir', 1, missing);
  afterCall(fs, 'writeFileSync', 'write');
  afterCall(fs, 'appendFileSync', 'write');
  afterCall(fs, 'renameSync', 'rename', 2);
  afterCall(fs, 'linkSync', 'link', 2);
  afterCall(fs, 'unlinkSync', 'unlink');
  afterCall(fs, 'rmSync', 'rm', 1, (path) => !missing(path));
  const fdPaths = new Map();
  const openFd = fs.openSync;
  fs.openSync = function (path, flags, mode) {
    const fd = openFd.call(this, path, flags, mode);
    const where = watched(path);
    if (where !== undefined) {
      fdPaths.set(fd, where);
      if (writes(flags)) step('open', where);
    }
    return fd;
  };
  const closeFd = fs.closeSync;
  fs.closeSync = function (fd) {
    fdPaths.delete(fd);
    return closeFd.call(this, fd);
  };
  for (const [name, op] of [
    ['writeSync', 'write'],
    ['fsyncSync', 'fsync'],
    ['fdatasyncSync', 'fsync'],
  ]) {
    const original = fs[name];
    fs[name] = function (fd, ...args) {
      const result = original.call(this, fd, ...args);
      const where = fdPaths.get(fd);
      if (where !== undefined) step(op, where);
      return result;
    };
  }
  // `import { rename } from 'node:fs/promises'` binds the export, not the property: refresh them.
  syncBuiltinESMExports();

  // The catalog: a step at the end of each transaction of a watched database.
  const require = createRequire(import.meta.url);
  const Database = require('better-sqlite3');
  const committed = (db, sql) => {
    if (db.inTransaction) return;
    const where = watched(db.name);
    if (where !== undefined) step(`commit ${sql.trim().split(/\s+/, 1)[0].toLowerCase()}`, where);
  };
  const exec = Database.prototype.exec;
  Database.prototype.exec = function (sql) {
    const result = exec.call(this, sql);
    committed(this, sql);
    return result;
  };
  const prepare = Database.prototype.prepare;
  let statementProto;
  Database.prototype.prepare = function (sql) {
    const statement = prepare.call(this, sql);
    if (!statementProto) {
      statementProto = Object.getPrototypeOf(statement);
      const run = statementProto.run;
      statementProto.run = function (...args) {
        const result = run.apply(this, args);
        if (!this.reader) committed(this.database, this.source);
        return result;
      };
    }
    return statement;
  };
}
