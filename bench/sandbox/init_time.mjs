// Time from spawning a command to server-everything's initialize result, N runs, median and p90.
// usage: node init_time.mjs N -- COMMAND [ARG...]
import { spawn } from 'node:child_process';

const n = Number(process.argv[2] || 20);
const cmd = process.argv.slice(process.argv.indexOf('--') + 1);
const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {
  protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });

function once() {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd[0], cmd.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
    let buf = '';
    p.stdout.on('data', (d) => {
      buf += d;
      for (const line of buf.split('\n')) {
        if (line.includes('"id":1') && line.includes('"result"')) {
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          p.stdin.end();
          p.kill('SIGTERM');
          p.on('exit', () => resolve(ms));
          buf = '';
          return;
        }
      }
    });
    p.on('error', reject);
    p.stdin.write(init + '\n');
  });
}

const times = [];
for (let i = 0; i < n; i++) times.push(await once());
times.sort((a, b) => a - b);
const q = (f) => times[Math.min(times.length - 1, Math.floor(f * times.length))];
console.log(JSON.stringify({ runs: n, median_ms: +q(0.5).toFixed(1), p90_ms: +q(0.9).toFixed(1),
                             min_ms: +times[0].toFixed(1) }));
