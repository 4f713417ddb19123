// The escape suite's node probe: the same attacks as escape_probe, through node's own APIs, since
// most MCP servers are node programs (and node itself probes io_uring, opens sockets through libuv,
// spawns children...). One attack per run; the result is one JSON-RPC notification on stdout (and
// stderr), exit 0 = blocked, 1 = escaped, 2 = error. Never prints what it read: only whether the
// suite's canary token was in it. See docs/escape-suite.md.
import fs from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const [attack, ...args] = process.argv.slice(2);

function report(outcome, detail, extra = {}) {
  const line = JSON.stringify({ jsonrpc: '2.0', method: 'probe/result',
    params: { probe: 'node', attack, outcome, detail, ...extra } }) + '\n';
  fs.writeSync(1, line);
  fs.writeSync(2, line);
  process.exit(outcome === 'blocked' ? 0 : outcome === 'escaped' ? 1 : 2);
}

const attacks = {
  read([file, canary]) {
    let data;
    try { data = fs.readFileSync(file, 'latin1'); } catch (e) { report('blocked', `read ${file}: ${e.code}`); }
    if (data.includes(canary)) report('escaped', `read the canary from ${file}`);
    report('blocked', `opened ${file} (${data.length} bytes) but no canary`);
  },
  write([file, canary]) {
    try { fs.mkdirSync(path.dirname(file), { recursive: true }); } catch {}
    try {
      fs.appendFileSync(file, `\n# ${canary}\n`);
      report('escaped', `appended to ${file}`);
    } catch (e) {
      try {
        fs.writeFileSync(file + '.escape-tmp', `\n# ${canary}\n`);
        fs.renameSync(file + '.escape-tmp', file);
        report('escaped', `replaced ${file} by rename`);
      } catch (e2) { report('blocked', `append: ${e.code}; rename: ${e2.code}`); }
    }
  },
  env([canary, ...names]) {
    const found = names.filter(n => n in process.env);
    for (const [k, v] of Object.entries(process.env)) if (v.includes(canary)) found.push(`value-of:${k}`);
    if (found.length) report('escaped', `secrets visible: ${found.join(' ')}`);
    report('blocked', `none of ${names.length} names, no canary in process.env`);
  },
  'connect-tcp'([host, port, token]) { connect({ host, port: Number(port) }, `${host}:${port}`, token); },
  'connect-unix'([p, token]) { connect({ path: p }, p, token); },
  'connect-abstract'([name, token]) { connect({ path: '\0' + name }, '@' + name, token); },
  udp([host, port, token]) {
    const s = dgram.createSocket('udp4');
    s.on('error', e => report('blocked', `udp: ${e.code}`));
    s.on('message', () => report('escaped', `got a reply from ${host}:${port}`));
    s.send(token, Number(port), host, e => {
      if (e) report('blocked', `send: ${e.code}`);
      setTimeout(() => report('blocked', 'sent, no reply within 2 s'), 2000);
    });
  },
  async fetch([url]) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
      report('escaped', `fetch ${url}: HTTP ${r.status}`);
    } catch (e) {
      const code = e.cause?.code ?? e.name;
      // A certificate complaint means the TCP connection and TLS handshake happened.
      if (/CERT|SELF_SIGNED|TLS|SSL/.test(code)) report('escaped', `fetch ${url}: reached it (${code})`);
      report('blocked', `fetch ${url}: ${code}`);
    }
  },
  ifaces() {
    const names = Object.keys(os.networkInterfaces());
    if (names.some(n => n !== 'lo')) report('escaped', `interfaces: ${names.join(' ')}`);
    report('blocked', `interfaces: ${names.join(' ')}`);
  },
  pids([reversed]) {
    const marker = [...reversed].reverse().join('');  // reversed so our own argv does not match
    let seen = [];
    const all = fs.readdirSync('/proc').filter(n => /^\d+$/.test(n));
    for (const p of all) {
      try { if (fs.readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(marker)) seen.push(p); } catch {}
    }
    if (seen.length) report('escaped', `host helper visible as pid ${seen.join(' ')}`);
    report('blocked', `${all.length} processes visible, no host helper`);
  },
  kill([pid, sig]) {
    try { process.kill(Number(pid), Number(sig)); } catch (e) { report('blocked', `kill: ${e.code}`); }
    report('escaped', `kill(${pid}, ${sig}) succeeded`);
  },
  'setuid-exec'([file]) {
    let out;
    try { out = execFileSync(file, ['whoami'], { encoding: 'latin1' }).trim(); } catch (e) {
      report('blocked', `setuid binary did not run: ${e.code ?? e.status}`);
    }
    const m = /euid=(\d+) capeff=([0-9a-f]+)/.exec(out);
    if (!m) report('blocked', `setuid binary said: ${out}`);
    if (Number(m[1]) !== process.getuid() || BigInt('0x' + m[2]) !== 0n) report('escaped', `setuid binary ran with ${out}`);
    report('blocked', `setuid binary ran with ${out} (no gain)`);
  },
};

function connect(opts, what, token) {
  const s = net.connect(opts);
  const timer = setTimeout(() => report('blocked', `connect ${what}: timed out`), 3000);
  s.on('connect', () => {
    clearTimeout(timer);
    s.write(token + '\n', () => setTimeout(() => report('escaped', `connected to ${what}`), 100));
  });
  s.on('error', e => report('blocked', `connect ${what}: ${e.code}`));
}

if (!attacks[attack]) report('error', `unknown attack ${attack}`);
await attacks[attack](args);
