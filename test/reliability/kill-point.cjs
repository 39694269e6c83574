// Loaded with `node --require` into `odc-portal rotate-key` by the crash test: kills the
// process with SIGKILL (kill -9, no cleanup) at an exact point of the rotation, so the
// narrow windows a random kill rarely hits are covered every run.
//   RELIABILITY_KILL_AT=after-stage     the new key is stored as pending, the store not yet re-wrapped
//   RELIABILITY_KILL_AT=before-promote  the store is re-wrapped (committed), the pending key not yet current
'use strict';
const fs = require('node:fs');
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
