// Loaded with `node --require` into `odc-portal rotate-key` by the concurrent-rotation tests:
// holds the process for ROTATION_PAUSE_MS right after it has stored its new key as pending,
// so a second rotation started at the same moment reliably overlaps the first (the race the
// scheduler would otherwise hit only now and then). A fault injection, not a fake: the
// rotation itself runs unchanged.
'use strict';
const fs = require('node:fs');
const ms = Number(process.env.ROTATION_PAUSE_MS || 400);
const rename = fs.renameSync;
fs.renameSync = function renameSync(from, to) {
  const result = rename.apply(this, arguments);
  if (/master\.key\.next(-[0-9a-f]+)?$/.test(String(to))) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return result;
};
