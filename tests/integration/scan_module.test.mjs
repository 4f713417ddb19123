// The scan module (launcher/scan/module.h): mcpcell loads Hyperscan and RE2 from mcpcell-scan.so,
// found next to its own executable. Without a usable module no session starts: 125, a message that
// names the module and says to reinstall, both session records, and the server never runs.
// Each test runs a copy of build/mcpcell in a directory of its own, with or without a module.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD, MCPCELL, tempHome } from './lib/env.mjs';

const MODULE = join(BUILD, 'mcpcell-scan.so');
const WRONG_ABI = join(BUILD, 'tests', 'unit', 'scan', 'mcpcell-scan-wrong-abi.so');
// An AWS access key id the shipped rules find: the command line carries it, the log must not.
const TOKEN = 'AKIAQYLPMN5HHHFPZAM2';

let h;
before(() => { h = tempHome('mcpcell-scanmod-'); });
after(() => h.cleanup());

let n = 0;
// A directory with a copy of mcpcell and, when given, `module` copied in as its scan module.
function install(module, mode = 0o755) {
  const dir = join(h.root, `inst${n++}`);
  mkdirSync(dir);
  copyFileSync(MCPCELL, join(dir, 'mcpcell'));
  chmodSync(join(dir, 'mcpcell'), 0o755);
  if (module) {
    copyFileSync(module, join(dir, 'mcpcell-scan.so'));
    chmodSync(join(dir, 'mcpcell-scan.so'), mode);
  }
  return dir;
}

// Runs a server that would leave a marker file; the records of this run only.
function run(dir, sandboxed) {
  const marker = join(dir, 'server-ran');
  const mode = sandboxed ? ['--allow-write', dir] : ['--no-sandbox'];
  const before = readAudit(dir).length;
  const r = spawnSync(join(dir, 'mcpcell'),
    [...mode, '--quiet', '--', '/bin/sh', '-c', `touch ${marker}`, 'sh', TOKEN],
    { env: h.env, encoding: 'utf8', input: '', timeout: 30000 });
  return { ...r, ran: existsSync(marker), records: readAudit(dir).slice(before) };
}

// `mcpcell log --json` needs no scan module.
function readAudit(dir) {
  const r = spawnSync(join(dir, 'mcpcell'), ['log', '--json'], { env: h.env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const auditText = () => (existsSync(h.auditPath) ? readFileSync(h.auditPath, 'utf8') : '');

for (const sandboxed of [false, true]) {
  const how = sandboxed ? 'sandboxed' : 'without the sandbox';

  test(`with its module next to it, the server runs (${how})`, () => {
    const dir = install(MODULE);
    const r = run(dir, sandboxed);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.ran, 'the server did not run');
    const start = r.records.find((x) => x.event === 'session.start');
    assert.ok(start.command.some((a) => a.startsWith('[REDACTED:')), JSON.stringify(start.command));
    assert.ok(!auditText().includes(TOKEN));
  });

  test(`without its module, no session starts and the server never runs (${how})`, () => {
    const dir = install(null);
    const r = run(dir, sandboxed);
    assert.equal(r.status, 125, r.stderr);
    assert.ok(r.stderr.includes(join(dir, 'mcpcell-scan.so')), r.stderr);
    assert.match(r.stderr, /scan module mcpcell-scan\.so is missing/);
    assert.match(r.stderr, /reinstall mcpcell/);
    assert.ok(!r.ran, 'the server ran without a scan module');
    const start = r.records.find((x) => x.event === 'session.start');
    const end = r.records.find((x) => x.event === 'session.end');
    assert.ok(start && end, JSON.stringify(r.records));
    assert.equal(start.started, false);
    // Not even a child was made: no sandbox to describe. (The marker alone cannot tell: a server
    // started and killed at once would rarely get as far as writing it.)
    assert.deepEqual(start.sandbox, {});
    assert.equal(end.exit, 125);
    assert.match(end.reason, /mcpcell-scan\.so is missing/);
    // Nothing could be scanned, so nothing of the command line is recorded.
    assert.ok(start.command.every((a) => a === '[REDACTED:unscanned]'), JSON.stringify(start.command));
    assert.ok(!auditText().includes(TOKEN));
  });
}

test('a module writable by group or others is refused before the server runs', () => {
  const dir = install(MODULE, 0o775);
  const r = run(dir, false);
  assert.equal(r.status, 125, r.stderr);
  assert.match(r.stderr, /refusing the scan module .*mcpcell-scan\.so: it is writable by group or others/);
  assert.ok(!r.ran, 'the server ran with a refused module');
  assert.deepEqual(r.records.find((x) => x.event === 'session.start')?.sandbox, {});
  assert.equal(r.records.find((x) => x.event === 'session.end')?.exit, 125);
});

test('a module of another ABI is refused and the session does not start', () => {
  const dir = install(WRONG_ABI);
  const r = run(dir, false);
  assert.equal(r.status, 125, r.stderr);
  assert.match(r.stderr, /mcpcell-scan\.so is from another build of mcpcell/);
  assert.match(r.stderr, /reinstall mcpcell/);
  // Only loading tells a wrong ABI, and the load overlaps the server's start: the server may have
  // begun, but it is stopped and the client hears nothing from it.
  assert.equal(r.stdout, '');
  const end = r.records.find((x) => x.event === 'session.end');
  assert.equal(end?.exit, 125);
  assert.match(end.reason, /another build of mcpcell/);
});

// `mcpcell doctor` loads the module for real and says where it came from, or why it cannot be used.
function doctor(dir) {
  const r = spawnSync(join(dir, 'mcpcell'), ['doctor', '--json'], { env: h.env, encoding: 'utf8', timeout: 60000 });
  const out = JSON.parse(r.stdout);
  return { status: r.status, out, check: out.checks.find((c) => c.name === 'scan module') };
}

test('doctor reports the module it loads', () => {
  const dir = install(MODULE);
  const d = doctor(dir);
  assert.equal(d.out.scan_module, true);
  assert.equal(d.check?.level, 'ok', JSON.stringify(d.check));
  assert.equal(d.check.detail, `${join(dir, 'mcpcell-scan.so')} loads (Hyperscan and RE2)`);
  assert.equal(d.status, d.out.sandbox_available ? 0 : 1);
});

for (const [what, module, mode, says] of [
  ['missing', null, 0o755, /mcpcell-scan\.so is missing/],
  ['writable by others', MODULE, 0o757, /writable by group or others/],
  ['of another ABI', WRONG_ABI, 0o755, /another build of mcpcell/],
]) {
  test(`doctor fails when the module is ${what}`, () => {
    const d = doctor(install(module, mode));
    assert.equal(d.status, 1);
    assert.equal(d.out.scan_module, false);
    assert.equal(d.check?.level, 'fail', JSON.stringify(d.check));
    assert.match(d.check.detail, says);
    assert.match(d.check.fix, /reinstall mcpcell/);
  });
}
