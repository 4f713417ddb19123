// Times tools/list round trips of one client session: node list_bench.mjs COUNT -- CMD [ARG...]
// Prints one JSON line: {count, bytes, tools, p50_ms, p90_ms, mean_ms, first_ms}.
// `first_ms` is the first list of the session (where a first run pins every item).
import { spawn } from 'node:child_process';

const sep = process.argv.indexOf('--');
const count = Number(process.argv[2] || 200);
const argv = process.argv.slice(sep + 1);
const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
let buf = '';
const waiting = new Map();
child.stdout.on('data', (c) => {
  buf += c;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    const m = JSON.parse(line);
    const w = waiting.get(m.id);
    if (w) { waiting.delete(m.id); w({ m, bytes: line.length }); }
  }
});
let next = 0;
const request = (method, params = {}) => new Promise((resolve) => {
  const id = next++;
  waiting.set(id, resolve);
  child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
});

await request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } });
child.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
const times = [];
let bytes = 0, tools = 0;
for (let i = 0; i < count; i++) {
  const t0 = process.hrtime.bigint();
  const { m, bytes: b } = await request('tools/list');
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  bytes = b;
  tools = m.result.tools.length;
}
child.stdin.end();
const first = times[0];
const rest = times.slice(1).sort((a, b) => a - b);
const q = (p) => rest[Math.min(rest.length - 1, Math.floor(p * rest.length))];
const mean = rest.reduce((a, b) => a + b, 0) / rest.length;
console.log(JSON.stringify({ count, bytes, tools, first_ms: +first.toFixed(3), p50_ms: +q(0.5).toFixed(3),
  p90_ms: +q(0.9).toFixed(3), mean_ms: +mean.toFixed(3) }));
