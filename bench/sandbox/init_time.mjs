// Time from spawning a command to server-everything's initialize result, N runs, median and p90.
// usage: node init_time.mjs N -- COMMAND [ARG...] [--- NAME=COMMAND [ARG...]]...
// With several commands (each after `---`, optionally named NAME=), the runs interleave (one of
// each, N times) so that a shared machine's load falls on all of them alike; one line each.
import { spawn } from 'node:child_process';

const n = Number(process.argv[2] || 20);
const rest = process.argv.slice(process.argv.indexOf('--') + 1);
const cmds = [[]];
for (const a of rest) {
  if (a === '---') cmds.push([]);
  else cmds[cmds.length - 1].push(a);
}
const named = cmds.filter((c) => c.length).map((c) => {
  const m = /^([\w.()-]+)=(.+)$/.exec(c[0]);
  return m ? { name: m[1], cmd: [m[2], ...c.slice(1)] } : { name: '', cmd: c };
});
const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {
  protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });

function once(cmd) {
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

const times = named.map(() => []);
for (let i = 0; i < n; i++)
  for (let c = 0; c < named.length; c++) times[c].push(await once(named[c].cmd));
for (let c = 0; c < named.length; c++) {
  const t = times[c].sort((a, b) => a - b);
  const q = (f) => t[Math.min(t.length - 1, Math.floor(f * t.length))];
  const line = JSON.stringify({ runs: n, median_ms: +q(0.5).toFixed(1), p90_ms: +q(0.9).toFixed(1),
                                min_ms: +t[0].toFixed(1) });
  console.log(named.length > 1 ? `${named[c].name.padEnd(11)}${line}` : line);
}
