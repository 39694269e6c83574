// Loaded with `node --require` into `odc-portal rotate-key` by the crash test: kills the
// process with SIGKILL (kill -9, no cleanup) at an exact point of the rotation, so the
// narrow windows a random kill rarely hits are covered every run.
// Key file (SQLite store):
//   RELIABILITY_KILL_AT=after-stage     the new key is stored as pending, the store not yet re-wrapped
//   RELIABILITY_KILL_AT=before-promote  the store is re-wrapped (committed), the pending key not yet current
// PORTAL_NEW_MASTER_KEY (PostgreSQL store; pg is bundled into dist/server.js, so the hook is on
// the socket: the rotation's transaction is the one that writes the audit's `key.rotate`):
//   RELIABILITY_KILL_AT=before-commit   every key re-wrapped and the audit record written, COMMIT not yet sent
//   RELIABILITY_KILL_AT=after-commit    COMMIT acknowledged, the command not yet reporting success
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const at = process.env.RELIABILITY_KILL_AT;
const rename = fs.renameSync;
fs.renameSync = function renameSync(from, to) {
  // Pending keys are named by key id: master.key.next-<id>.
  const promoting = /\.next-[0-9a-f]+$/.test(String(from)) && path.basename(String(to)) === 'master.key';
  if (at === 'before-promote' && promoting) process.kill(process.pid, 'SIGKILL');
  const result = rename.apply(this, arguments);
  if (at === 'after-stage' && /master\.key\.next-[0-9a-f]+$/.test(String(to))) process.kill(process.pid, 'SIGKILL');
  return result;
};

if (at === 'before-commit') {
  let armed = false;
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function (chunk) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    if (bytes.includes('key.rotate')) armed = true;
    // A simple-protocol Query message: 'Q', int32 length, 'COMMIT\0'.
    else if (armed && bytes[0] === 0x51 && bytes.subarray(5).toString('latin1').startsWith('COMMIT')) process.kill(process.pid, 'SIGKILL');
    return write.apply(this, arguments);
  };
}

if (at === 'after-commit') {
  // rotate-key reports success only after the transaction's COMMIT was acknowledged.
  const write = process.stdout.write;
  process.stdout.write = function (chunk) {
    if (String(chunk).startsWith('re-wrapped')) process.kill(process.pid, 'SIGKILL');
    return write.apply(this, arguments);
  };
}
