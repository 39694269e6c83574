// The baseline of the run-time read: a bare Express 5 app (the project's express, default
// settings, no middleware, no logger) whose one handler returns fixed bytes, in its own Node
// process like the portal server. usage: node bench/baseline-server.cjs BODY_FILE CONTENT_TYPE ROUTE
'use strict';
const fs = require('node:fs');
const express = require('express');

const [bodyFile, contentType, route] = process.argv.slice(2);
const body = fs.readFileSync(bodyFile);
const app = express();
app.get(route, (_req, res) => {
  res.set('Content-Type', contentType);
  res.send(body);
});
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`baseline listening on http://127.0.0.1:${server.address().port}\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
