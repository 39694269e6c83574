#!/usr/bin/env node
// The odc-portal command; the server is bundled into dist/server.js by `npm run build`.
require('../dist/server.js').main(process.argv.slice(2));
