// Loaded into the server by the load test only (NODE_OPTIONS=--require ...): on SIGUSR2 it
// runs a full garbage collection and prints the V8 heap in use, so the test can tell a leak
// (live heap that keeps growing) from a heap that merely grew its capacity under load (RSS).
'use strict';
const v8 = require('node:v8');
const vm = require('node:vm');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
process.on('SIGUSR2', () => {
  gc();
  gc();
  const m = process.memoryUsage();
  process.stderr.write(`HEAP_AFTER_GC heapUsed=${m.heapUsed} external=${m.external} arrayBuffers=${m.arrayBuffers} rss=${m.rss}\n`);
});
