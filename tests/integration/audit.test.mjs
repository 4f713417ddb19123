// The audit trail you can trust and review (issue 9): the hash chain catches edits, deletions,
// reordering and truncation; rotation keeps the chain; a kill -9 mid-write leaves a readable log;
// --blocked summarises refusals; the HTML report renders in headless Chromium with the right counts;
// export formats are well formed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, statSync, readdirSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { MCPCELL, tempHome } from './lib/env.mjs';

let h;
before(() => { h = tempHome('mcpcell-audit-'); });
after(() => h.cleanup());

const mcpcell = (args, opts = {}) =>
  spawnSync(MCPCELL, args, { env: h.env, encoding: 'utf8', maxBuffer: 1 << 28, ...opts });

// One session through `cat` (an echo "server") with a valid line, an invalid one and an oversize one.
function session(extra = []) {
  const big = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'x', params: { d: 'a'.repeat(5000) } });
  const input = '{"jsonrpc":"2.0","id":1,"method":"ping"}\nnot json\n' + big + '\n';
  const r = mcpcell(['--no-sandbox', '--quiet', '--max-line-bytes', '4096', ...extra, '--', 'cat'],
    { input });
  assert.equal(r.status, 0, r.stderr);
  return r;
}

const verify = () => mcpcell(['log', 'verify']);
const lines = () => readFileSync(h.auditPath, 'utf8').split('\n').filter(Boolean);

test('a fresh trail verifies, with private modes', () => {
  for (let i = 0; i < 3; i++) session();
  const v = verify();
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /^ok: \d+ records/m);
  assert.equal(statSync(h.stateDir).mode & 0o777, 0o700);
  assert.equal(statSync(h.configDir).mode & 0o777, 0o700);
  for (const f of readdirSync(h.stateDir)) {
    const st = statSync(join(h.stateDir, f));
    if (st.isFile()) assert.equal(st.mode & 0o777, 0o600, f);
  }
  // Every record carries the chain field; the first has the genesis value.
  const recs = lines().map((l) => JSON.parse(l));
  assert.equal(recs[0].prev, '0'.repeat(64));
  for (const r of recs) assert.match(r.prev, /^[0-9a-f]{64}$/);
});

function tamper(mutate) {
  const original = readFileSync(h.auditPath, 'utf8');
  const ls = original.split('\n').filter(Boolean);
  writeFileSync(h.auditPath, mutate(ls).join('\n') + '\n');
  const v = verify();
  writeFileSync(h.auditPath, original);
  return v;
}

test('an edited record breaks the chain', () => {
  const v = tamper((ls) => { ls[2] = ls[2].replace('"event":"', '"event":"x'); return ls; });
  assert.equal(v.status, 1);
  assert.match(v.stdout, /BROKEN: audit.jsonl line 4: broken chain/);
});

test('a deleted record breaks the chain', () => {
  const v = tamper((ls) => { ls.splice(3, 1); return ls; });
  assert.equal(v.status, 1);
  assert.match(v.stdout, /line 4: broken chain/);
});

test('reordered records break the chain', () => {
  const v = tamper((ls) => { [ls[3], ls[4]] = [ls[4], ls[3]]; return ls; });
  assert.equal(v.status, 1);
  assert.match(v.stdout, /broken chain/);
});

test('records cut off the end are caught by the checkpoint', () => {
  const v = tamper((ls) => ls.slice(0, ls.length - 2));
  assert.equal(v.status, 1);
  assert.match(v.stdout, /shorter .* than the checkpoint/);
});

test('an edited last record is caught by the checkpoint', () => {
  const v = tamper((ls) => { ls[ls.length - 1] = ls[ls.length - 1].replace('"exit":0', '"exit":7'); return ls; });
  assert.equal(v.status, 1);
  assert.match(v.stdout, /checkpoint/);
});

test('appended or inserted text that is no record is reported', () => {
  let v = tamper((ls) => [...ls, 'garbage appended by hand']);
  assert.equal(v.status, 1);
  assert.match(v.stdout, /not a record of the trail/);
  v = tamper((ls) => { ls.splice(2, 0, '{"event":"forged"}'); return ls; });
  assert.equal(v.status, 1);
});

test('--blocked groups refusals with counts and a next step', () => {
  const r = mcpcell(['log', '--blocked', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const groups = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const invalid = groups.find((g) => g.what.startsWith('invalid message c2s'));
  const oversize = groups.find((g) => g.what.startsWith('oversize message c2s'));
  assert.equal(invalid.count, 3);
  assert.equal(oversize.count, 3);
  assert.match(oversize.next, /--max-line-bytes/);
  const plain = mcpcell(['log', '--blocked']);
  assert.match(plain.stdout, /^cat$/m);
  assert.doesNotMatch(plain.stdout, /\x1b\[/, 'no colour when stdout is not a terminal');
});

test('export formats: RFC 5424 with structured data, OpenTelemetry JSON', () => {
  const s = mcpcell(['log', '--format', 'rfc5424', '--event', 'session.start']);
  const first = s.stdout.split('\n')[0];
  assert.match(first, /^<14>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ mcpcell - session.start \[mcpcell@32473 .*server="cat".*\] cat session.start$/);
  const o = mcpcell(['log', '--format', 'otel', '--event', 'message.oversize']);
  const rec = JSON.parse(o.stdout.split('\n')[0]);
  assert.equal(rec.Body, 'message.oversize');
  assert.equal(rec.SeverityText, 'INFO2');
  assert.equal(rec.Attributes['mcpcell.server'], 'cat');
  assert.match(rec.Timestamp, /^\d{19}$/);
});

test('rotation keeps the chain across files, with concurrent sessions', async () => {
  writeFileSync(join(h.configDir, 'settings.json'), JSON.stringify({ audit: { max_bytes: 3000, keep_files: 50 } }));
  const runs = [];
  for (let i = 0; i < 6; i++) {
    runs.push(new Promise((resolve) => {
      const p = spawn(MCPCELL, ['--no-sandbox', '--quiet', '--', 'cat'], { env: h.env, stdio: ['pipe', 'ignore', 'ignore'] });
      for (let k = 0; k < 20; k++) p.stdin.write(`{"jsonrpc":"2.0","id":${k},"method":"ping"}\n`);
      p.stdin.end();
      p.on('exit', resolve);
    }));
  }
  await Promise.all(runs);
  const rotated = readdirSync(h.stateDir).filter((f) => /^audit-.*\.jsonl$/.test(f));
  assert.ok(rotated.length >= 3, `rotated files: ${rotated.length}`);
  const v = verify();
  assert.equal(v.status, 0, v.stdout);
  assert.match(v.stdout, new RegExp(`in ${rotated.length + 1} files`));
  // `mcpcell log` reads the rotated files too.
  const all = mcpcell(['log', '--json']).stdout.trim().split('\n');
  assert.ok(all.length > 6 * 20 * 2, `records: ${all.length}`);
  writeFileSync(join(h.configDir, 'settings.json'), '{}');
});

test('kill -9 in the middle of writing leaves a readable, verifiable trail', async () => {
  const p = spawn(MCPCELL, ['--no-sandbox', '--quiet', '--', 'cat'], { env: h.env, stdio: ['pipe', 'ignore', 'ignore'] });
  p.stdin.on('error', () => {});  // writes still queued when mcpcell dies
  const line = '{"jsonrpc":"2.0","id":1,"method":"ping"}\n'.repeat(2000);
  for (let i = 0; i < 20; i++) p.stdin.write(line);
  await new Promise((r) => setTimeout(r, 150));
  p.kill('SIGKILL');
  await new Promise((r) => p.on('exit', r));
  // Simulate the torn tail a crash mid-write(2) leaves.
  writeFileSync(h.auditPath, readFileSync(h.auditPath, 'utf8') + '{"ts":"2026-11-22T00:00:00.000000Z","server":"x","ev');
  const log = mcpcell(['log', '--json']);
  assert.equal(log.status, 0);
  assert.match(log.stderr, /incomplete/);
  for (const l of log.stdout.trim().split('\n')) JSON.parse(l);
  session();  // the next session repairs the tail and continues the chain
  const v = verify();
  assert.equal(v.status, 0, v.stdout);
  assert.match(v.stdout, /incomplete record \(a write was cut short by a crash\)/);
});

test('report --html renders in headless Chromium with the right counts', (t) => {
  const out = join(h.root, 'report.html');
  const r = mcpcell(['report', '--html', out]);
  assert.equal(r.status, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  assert.doesNotMatch(html, /<script|https?:\/\//i, 'self-contained: no scripts, no external assets');
  const blocked = JSON.parse('[' + mcpcell(['log', '--blocked', '--json']).stdout.trim().split('\n').join(',') + ']');
  const refusals = blocked.reduce((n, g) => n + g.count, 0);
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  assert.ok(chromium, 'Chromium is installed by scripts/setup.sh');
  const dom = execFileSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${join(h.root, 'chromium')}`, '--dump-dom', `file://${out}`],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60000 });
  const count = (id) => Number(dom.match(new RegExp(`id="${id}" data-count="(\\d+)"`))[1]);
  assert.equal(count('count-refusals'), refusals);
  assert.equal(count('count-servers'), 1);
  assert.ok(count('count-sessions') >= 10);
  assert.ok(count('count-unsandboxed') >= 10);
  assert.match(dom, /id="chain" data-ok="true"/);
});
