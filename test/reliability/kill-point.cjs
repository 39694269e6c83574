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
  const promoting = String(from).endsWith('.next') && path.basename(String(to)) === 'master.key';
  if (at === 'before-promote' && promoting) process.kill(process.pid, 'SIGKILL');
  const result = rename.apply(this, arguments);
  if (at === 'after-stage' && String(to).endsWith('master.key.next')) process.kill(process.pid, 'SIGKILL');
  return result;
};
