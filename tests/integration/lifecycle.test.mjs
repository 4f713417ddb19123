// Lifecycle: a client that goes away must take the whole server with it within 1.5 s (clients
// wait ~2 s before killing mcpcell, and a grandchild holding the pipe makes editors hang for a
// minute: reference/protocol.md B8); exit statuses propagate as SPEC says; stdout holds only the
// server's lines; the audit log has the SPEC records with private permissions.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync, writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ECHO, MCPCELL, SANDBOX, peers, tempHome, wrap } from './lib/env.mjs';
import { LineClient, run, killAll } from './lib/linejson.mjs';
import { readAudit, events, TS_RE } from './lib/audit.mjs';
import { newMark, pidsWithMark, waitGone } from './lib/procs.mjs';

let t;
before(() => { t = tempHome(); });
after(() => { killAll(); t.cleanup(); });

// Starts server-everything through mcpcell with a mark in its environment, initializes with the
// roots capability and waits until the server has asked for roots (a request we never answer, so
// the server alone would linger ~60 s after stdin EOF).
async function everythingWaitingOnRoots() {
  const mark = newMark();
  const [k, v] = mark.split('=');
  const c = new LineClient(wrap(peers.everything, { allowEnv: [k] }), { env: { ...t.env, [k]: v } });
  await c.initialize({ roots: { listChanged: true } });
  await c.waitFor((m) => m && m.method === 'roots/list', { timeoutMs: 15000 });
  assert.ok(pidsWithMark(mark).length >= 1, 'the server runs and carries the mark');
  return { c, mark };
}

describe('shutdown', () => {
  test('client closes stdin while the server waits on roots/list: all gone within 1.5 s', async () => {
    const { c, mark } = await everythingWaitingOnRoots();
    const t0 = Date.now();
    c.closeStdin();
    const { code } = await c.exit(5000);
    const exitMs = Date.now() - t0;
    await waitGone(mark, Math.max(0, 1500 - (Date.now() - t0)));
    assert.ok(exitMs <= 1500, `mcpcell exited after ${exitMs} ms`);
    assert.ok(code !== null, 'mcpcell exited by itself');
    const end = events(readAudit(t.auditPath), 'session.end').at(-1);
    assert.ok(end && 'exit' in end && typeof end.reason === 'string');
  });

  test('daemons the server left behind (double fork, setsid) are gone when it exits', async () => {
    // Without a sandbox they are reparented to mcpcell (the child subreaper) and found by walking
    // its children; in the sandbox they die with the pid namespace.
    const mark = newMark();
    const [k, v] = mark.split('=');
    const script = '(setsid sleep 31 &); (sleep 32 &); exec sleep 0.3';
    const r = await run(wrap(['/bin/sh', '-c', script], { allowEnv: [k] }), { env: { ...t.env, [k]: v } });
    assert.equal(r.code, 0, r.stderr);
    await waitGone(mark, 1500);
  });

  test('the sandbox is gone the moment mcpcell exits, though mcpcell does not wait to finish the session',
    { skip: !SANDBOX && 'without a pid namespace, daemons killed at the end are reaped by whoever inherits them' },
    async () => {
      // The sandbox's init reports the server's status before it exits, and mcpcell finishes the
      // session while the kernel kills the rest of the namespace; mcpcell must still exit only once
      // all of it is gone. A daemon holding 150 MB takes tens of ms to die, so leaving early shows.
      const mark = newMark();
      const [k, v] = mark.split('=');
      // The daemons let go of the server's pipes: their end of stream must not be what holds
      // mcpcell back.
      const script = '(setsid sh -c \'x=$(head -c 150000000 /dev/zero | tr "\\0" a); sleep 34\' ' +
        '</dev/null >/dev/null 2>&1 &); (setsid sleep 35 </dev/null >/dev/null 2>&1 &); sleep 1.5';
      // stdin stays open: the server ends by itself, not through the client's end of stream.
      const c = new LineClient(wrap(['/bin/sh', '-c', script], { allowEnv: [k] }), { env: { ...t.env, [k]: v } });
      const { code } = await c.exit(10000);
      const left = pidsWithMark(mark);
      // A dying process no longer shows its environment; the sandbox's init (session.start's pid)
      // exits only after the kernel has killed and collected everything else in the namespace.
      const init = events(readAudit(t.auditPath), 'session.start').at(-1).pid;
      const initLeft = existsSync(`/proc/${init}`);
      assert.equal(code, 0);
      assert.deepEqual(left, [], 'processes of the sandbox outlived mcpcell');
      assert.equal(initLeft, false, `the sandbox's init (${init}) outlived mcpcell`);
    });

  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    test(`${sig} to mcpcell ends the server within 1.5 s`, async () => {
      const { c, mark } = await everythingWaitingOnRoots();
      const t0 = Date.now();
      c.kill(sig);
      await c.exit(5000);
      await waitGone(mark, 1500 - (Date.now() - t0));
    });
  }

  test('a server that stops reading mid-line does not hide the client closing stdin', async () => {
    // A line the server's pipe cannot take at once is queued as a view into mcpcell's read buffer,
    // and mcpcell stops reading the client meanwhile; that pause must be short, or the client's
    // end of stream goes unseen and the session never ends. 11 x 96 KiB: more than a 1 MiB pipe
    // holds, less than the 1 MiB backpressure bound beyond it even if the pipe stayed at 64 KiB.
    const c = new LineClient(wrap(['/bin/sleep', '30']), { env: t.env });
    const pad = 'x'.repeat(96 * 1024);
    for (let i = 0; i < 11; ++i) c.send({ jsonrpc: '2.0', method: 'notifications/pad', params: { pad } });
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    c.closeStdin();
    const { code } = await c.exit(5000);
    const exitMs = Date.now() - t0;
    assert.ok(exitMs <= 1500, `mcpcell exited ${exitMs} ms after the client closed stdin`);
    assert.equal(code, 128 + 15, 'the server was ended with SIGTERM');
  });

  test('kill -9 of mcpcell leaves no server process', async () => {
    const { c, mark } = await everythingWaitingOnRoots();
    c.kill('SIGKILL');
    await c.exit(5000);
    await waitGone(mark, 1500);
  });

  test('a grandchild of the server is ended too', async () => {
    const mark = newMark();
    const [k, v] = mark.split('=');
    // The server forks a long sleeper that ignores SIGTERM and keeps our pipes open.
    const script = `(trap "" TERM; exec sleep 60) & exec ${ECHO}`;
    const c = new LineClient(wrap(['sh', '-c', script], { allowEnv: [k] }), { env: { ...t.env, [k]: v } });
    await c.initialize();
    assert.ok(pidsWithMark(mark).length >= 2);
    const t0 = Date.now();
    c.closeStdin();
    await c.exit(5000);
    await waitGone(mark, 1500 - (Date.now() - t0));
  });
});

describe('exit statuses', () => {
  const cases = [
    ['the server status', ['sh', '-c', 'exit 3'], 3],
    ['128+N for a signal (SIGSEGV)', ['sh', '-c', 'kill -SEGV $$'], 139],
    ['0 for a clean exit', ['true'], 0],
  ];
  for (const [name, cmd, want] of cases) {
    test(name, async () => {
      const c = new LineClient(wrap(cmd), { env: t.env });  // stdin stays open: the server ends it
      const { code } = await c.exit(5000);
      assert.equal(code, want, c.stderr);
    });
  }

  test('127 when the command is not found', async () => {
    const r = await run(wrap(['/nonexistent/mcp-server']), { env: t.env });
    assert.equal(r.code, 127);
    assert.match(r.stderr, /mcpcell:.*(not found|No such file)/i);
    assert.equal(r.stdout, '');
  });

  test('127 for a bare name that is not on PATH', async () => {
    const r = await run(wrap(['mcpcell-no-such-server-xyz']), { env: t.env });
    assert.equal(r.code, 127);
  });

  test('126 when the command is not executable', async () => {
    const f = join(t.root, 'not-executable.sh');
    writeFileSync(f, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    const r = await run(wrap([f], { allowRead: [t.root] }), { env: t.env });
    assert.equal(r.code, 126);
    assert.match(r.stderr, /mcpcell:/);
  });

  test('125 for a bad option, with a message naming it', async () => {
    for (const argv of [[MCPCELL, '--bogus-option', '--', 'true'], [MCPCELL, '--no-sandbox'],
                        [MCPCELL, '--max-line-bytes', 'lots', '--no-sandbox', '--', 'true']]) {
      const r = await run(argv, { env: t.env });
      assert.equal(r.code, 125, argv.join(' '));
      assert.match(r.stderr, /mcpcell:/);
      assert.equal(r.stdout, '');
    }
  });

  test('125 for a broken scan policy, and the server (started meanwhile) is gone', async () => {
    // The filters are built while the server starts, so a profile whose scan policy does not
    // compile is found after the spawn: mcpcell must still stop with 125, relay nothing, and take
    // the server with it.
    const profile = join(t.root, 'broken-scan.json');
    writeFileSync(profile, JSON.stringify({ schema: 1, scan: { categories: { nonsense: 'block' } } }));
    const mark = newMark();
    const [k, v] = mark.split('=');
    const t0 = Date.now();
    const r = await run(wrap(['/bin/sh', '-c', 'echo \'{"jsonrpc":"2.0","method":"early"}\'; exec sleep 30'],
                             { allowEnv: [k], extra: ['--profile', profile] }),
                        { env: { ...t.env, [k]: v } });
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /mcpcell: scan policy: unknown category "nonsense"/);
    assert.equal(r.stdout, '', 'nothing was relayed');
    await waitGone(mark, Math.max(0, 1500 - (Date.now() - t0)));
    const recs = readAudit(t.auditPath);
    const start = events(recs, 'session.start').at(-1), end = events(recs, 'session.end').at(-1);
    assert.equal(start.started, false);
    assert.equal(end.exit, 125);
    assert.match(end.reason, /scan policy/);
  });
});

describe('streams and the audit log', () => {
  test("stdout holds only the server's lines; mcpcell speaks on stderr", async () => {
    const script = 'echo \'{"jsonrpc":"2.0","method":"one"}\'; echo "server log line" >&2; echo \'{"jsonrpc":"2.0","method":"two"}\'';
    const r = await run(wrap(['sh', '-c', script]), { env: t.env });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '{"jsonrpc":"2.0","method":"one"}\n{"jsonrpc":"2.0","method":"two"}\n');
    assert.match(r.stderr, /server log line/);
    if (!SANDBOX) assert.match(r.stderr, /WARNING.*--no-sandbox|without isolation/i);
  });

  test('the audit log has session.start, message and session.end with the SPEC fields', async () => {
    const h = tempHome('mcpcell-audit-');
    try {
      const c = new LineClient(wrap([ECHO]), { env: h.env });
      await c.initialize();
      await c.request(1, 'tools/call', { name: 'echo', arguments: { message: 'audited' } });
      c.closeStdin();
      assert.equal((await c.exit()).code, 0);
      const recs = readAudit(h.auditPath);
      assert.ok(recs.length >= 6, `records: ${recs.length}`);
      let session;
      for (const r of recs) {
        assert.match(r.ts, TS_RE);
        assert.equal(r.server, 'mcpcell-echo');
        assert.equal(typeof r.session, 'string');
        assert.equal(typeof r.event, 'string');
        session ??= r.session;
        assert.equal(r.session, session);
      }
      const start = events(recs, 'session.start');
      assert.equal(start.length, 1);
      assert.ok(Array.isArray(start[0].command) || typeof start[0].command === 'string');
      assert.match(JSON.stringify(start[0].command), /mcpcell-echo/);
      assert.ok('profile' in start[0] && 'sandbox' in start[0]);
      const msgs = events(recs, 'message');
      const c2s = msgs.filter((m) => m.dir === 'c2s');
      const s2c = msgs.filter((m) => m.dir === 's2c');
      assert.ok(c2s.some((m) => m.method === 'initialize'));
      assert.ok(c2s.some((m) => m.method === 'tools/call' && m.id === 1));
      assert.ok(s2c.some((m) => m.id === 1));
      for (const m of msgs) {
        assert.ok('method' in m || 'id' in m);
        assert.equal(typeof m.bytes, 'number');
      }
      assert.ok(!JSON.stringify(recs).includes('audited'), 'message bodies are not logged');
      const end = events(recs, 'session.end');
      assert.equal(end.length, 1);
      assert.equal(end[0].exit, 0);
      assert.equal(typeof end[0].reason, 'string');

      for (const d of [h.stateDir, h.configDir])
        assert.equal(statSync(d).mode & 0o777, 0o700, d);
      const walk = (dir) => {
        for (const f of readdirSync(dir)) {
          const p = join(dir, f);
          const st = statSync(p);
          assert.equal(st.mode & 0o777, st.isDirectory() ? 0o700 : 0o600, p);
          if (st.isDirectory()) walk(p);
        }
      };
      walk(h.stateDir);

      // `mcpcell log` shows the session readably and as JSON.
      const human = await run([MCPCELL, 'log'], { env: h.env });
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /session\.start/);
      assert.match(human.stdout, /mcpcell-echo/);
      const json = await run([MCPCELL, 'log', '--json', '--event', 'session.'], { env: h.env });
      assert.equal(json.code, 0);
      const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((r) => r.event), ['session.start', 'session.end']);
    } finally {
      h.cleanup();
    }
  });
});

describe('relative paths in the command', () => {
  // Always sandboxed (the hint is about what the sandbox hides); the server is `cat`, so the only
  // thing that can make the file readable is the grant.
  test('a relative path under an ungranted working directory gets a hint naming the fix', async () => {
    const h = tempHome();
    try {
      const proj = join(h.root, 'proj');
      mkdirSync(join(proj, 'dist'), { recursive: true });
      writeFileSync(join(proj, 'dist', 'server.txt'), 'x\n');
      const hidden = await run([MCPCELL, '--', 'cat', 'dist/server.txt'], { env: h.env, cwd: proj });
      assert.notEqual(hidden.code, 0, 'the file is not visible: cat fails');
      assert.match(hidden.stderr, /'dist\/server\.txt' is relative to .*proj, which the sandbox does not show/);
      assert.match(hidden.stderr, new RegExp(`--allow-read ${proj.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

      const granted = await run([MCPCELL, '--allow-read', proj, '--', 'cat', 'dist/server.txt'],
                                { env: h.env, cwd: proj });
      assert.doesNotMatch(granted.stderr, /is relative to/);
      assert.match(granted.stderr, /dropped: x/, 'with the grant the server starts in the project and reads it');
    } finally {
      h.cleanup();
    }
  });
});
