// Loaded with `node --require` into an `odc-portal` command by the rotation tests: right after
// the command has read its master key file, it prints "open-paused" on stderr and holds until
// the file named by OPEN_RELEASE_FILE exists (15 s at most), so a test can run a whole
// rotation inside the window between reading the key and opening the store. A fault
// injection, not a fake: the command itself runs unchanged.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const release = process.env.OPEN_RELEASE_FILE;
const read = fs.readFileSync;
let held = false;
fs.readFileSync = function readFileSync(file) {
  const result = read.apply(this, arguments);
  if (!held && release && typeof file === 'string' && path.basename(file) === 'master.key') {
    held = true;
    fs.writeSync(2, 'open-paused\n');
    const tick = new Int32Array(new SharedArrayBuffer(4));
    const until = Date.now() + 15_000;
    while (!fs.existsSync(release) && Date.now() < until) Atomics.wait(tick, 0, 0, 20);
  }
  return result;
};
