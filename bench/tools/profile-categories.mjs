// Splits a V8 .cpuprofile's self time into categories by where the code lives (for comparing the
// portal's request path with the bare Express baseline). usage: node bench/tools/profile-categories.mjs FILE [requests]
import fs from 'node:fs';

const [file, requestsArg] = process.argv.slice(2);
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map();
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));

// Category of a sample: the innermost frame that names a known package or area; native frames
// (writev, GC) inherit their caller's category unless they are GC/idle/program.
const RULES = [
  [/helmet|contentSecurityPolicy|xFrameOptions|strictTransport|crossOrigin|originAgent|referrerPolicy|xContentType|xDns|xDownload|xPermitted|xPoweredBy|xXss/, 'helmet'],
  [/pino|sonic|redact|fast-redact|asJson|LOG\b|quick-format|atomic-sleep/, 'logger (pino)'],
  [/authenticate|findToken|hashToken|freshMemos|isBlocked|clientOf|allowRoles/, 'auth'],
  [/runtimeSettings|valueRows|currentDefinitions|getApp|openValue|stmt\b/, 'store'],
  [/router|Layer|layer|dispatch|handle|processParams|trimPrefix|matchLayer|match\b|pathToRegexp|next\b|param\b/, 'express routing'],
  [/send|json|setHeader|res\.|contentType|etag|fresh|vary/, 'express response'],
];
function category(id) {
  const n = byId.get(id);
  const name = n.callFrame.functionName;
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return 'idle';
  if (name === '(program)') return 'program (native, unattributed)';
  // The innermost frame of our rules wins (pino's write syscall counts as logger); frames of
  // node's http/net/streams count as such only when no rule matches further up.
  let fallback = null;
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const f = byId.get(cur).callFrame;
    const label = `${f.functionName} ${f.url}`;
    for (const [re, cat] of RULES) if (re.test(label)) return fallback && cat.startsWith('express') ? fallback : cat;
    if (!fallback && /node:_http|node:net|node:internal\/streams|stream_base|^(writev|writeUtf8String|writeBuffer|writeLatin1String) /.test(label)) fallback = 'node http/net';
  }
  return fallback ?? 'other';
}
const totals = new Map();
let busy = 0;
for (const [id, t] of self) {
  const c = category(id);
  totals.set(c, (totals.get(c) ?? 0) + t);
  if (c !== 'idle') busy += t;
}
const requests = Number(requestsArg ?? 0);
console.log(`busy ${(busy / 1000).toFixed(0)} ms${requests ? `, ${(busy / requests).toFixed(1)} µs per request` : ''}`);
for (const [c, t] of [...totals].sort((a, b) => b[1] - a[1])) {
  if (c === 'idle') continue;
  console.log(`${((100 * t) / busy).toFixed(1).padStart(5)}%  ${requests ? `${(t / requests).toFixed(1).padStart(7)} µs/req` : ''}  ${c}`);
}
