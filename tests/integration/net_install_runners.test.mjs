// The install phase of package runners other than npx (issue 5): `uvx` / `uv tool run` get a
// separate prefetch step (`uvx --from PKG true` with only the install hosts) and then run the
// server with UV_OFFLINE=1 and without them; `pipx run`, which has no offline mode, keeps the
// install hosts only until the server's first message.
//
// uv and pipx are not installed here and PyPI is out of reach, so the runners are stand-ins
// (tests/fixtures/runners/uvx, .../pipx: small scripts that behave like the real ones on the points
// that matter — see their headers) and the index is a stand-in on the host's 127.0.0.1, reached as
// registry.example.test through the test resolver. The package they install is a Python script
// that probes the registry from inside the running server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MCPCELL, SOURCE, tempHome } from './lib/env.mjs';
import { standInRegistry } from './lib/registry.mjs';

const RUNNERS = join(SOURCE, 'tests', 'fixtures', 'runners');
const userns = spawnSync('unshare', ['-Urn', 'true']).status === 0;
const skip = !existsSync(MCPCELL) ? `${MCPCELL} not built`
  : !userns ? 'this kernel does not allow unprivileged user+network namespaces'
  : !existsSync('/usr/bin/python3') ? 'the stand-in runners need /usr/bin/python3' : false;
if (skip) console.log(`# skipping runner install-phase tests: ${skip}`);

const PKG = 'fixture-py-server';
let home, registry, port, hits = [];

// The package: an MCP server in one file. It probes the registry at start-up (before its first
// message) and again when pinged (after it), reporting both on stderr.
const SERVER_PY = `import json, sys, urllib.request
def probe(url):
    try:
        urllib.request.urlopen(url, timeout=5)
        return "reached"
    except Exception as e:
        return "failed: " + str(e)
print("fixture server started", file=sys.stderr, flush=True)
print("probe before first message: " + probe(sys.argv[1] + "/probe-before"), file=sys.stderr, flush=True)
for line in sys.stdin:
    m = json.loads(line)
    if m.get("method") == "initialize":
        r = {"protocolVersion": "2025-06-18", "capabilities": {}, "serverInfo": {"name": "fixture", "version": "1.0.0"}}
    elif m.get("method") == "ping":
        print("probe after first message: " + probe(sys.argv[1] + "/probe-after"), file=sys.stderr, flush=True)
        r = {}
    else:
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": r}), flush=True)
`;

before(async () => {
  if (skip) return;
  home = tempHome('mcpcell-runners-');
  ({ server: registry, port } = await standInRegistry(home, (req, res) => {
    hits.push(req.url);
    const base = `http://registry.example.test:${port}`;
    if (req.url === `/simple/${PKG}/`) {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ files: [{ url: `${base}/files/${PKG}-1.0.0.py` }] }));
    }
    if (req.url === `/files/${PKG}-1.0.0.py`) return res.end(SERVER_PY);
    if (req.url.startsWith('/probe')) return res.end('reached');
    res.statusCode = 404;
    res.end('{}');
  }));
});
after(() => {
  registry?.close();
  home?.cleanup();
});

function profile(name) {
  const file = join(home.root, `${name}.json`);
  const index = `http://registry.example.test:${port}/simple`;
  writeFileSync(file, JSON.stringify({
    schema: 1,
    extends: ['runtime:auto'],
    filesystem: { read: [RUNNERS] },
    // The localhost entry lets the name, which the test resolver points at 127.0.0.1, be dialed.
    network: { allow: ['api.example.test:443'], install: [`registry.example.test:${port}`, `localhost:${port}`] },
    env: { set: { UV_INDEX_URL: index, PIP_INDEX_URL: index } },
  }));
  return file;
}

// Runs mcpcell; `exchange` (optional) gets a function sending one JSON-RPC request and resolving
// with the response line.
function run(args, exchange) {
  return new Promise((resolve) => {
    const p = spawn(MCPCELL, args, { env: home.env });
    let stderr = '', out = '';
    const waiting = [];
    p.stdout.on('data', (d) => {
      out += d;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        waiting.shift()?.(JSON.parse(line));
      }
    });
    p.stderr.on('data', (d) => { stderr += d; });
    const send = (msg) => new Promise((r) => { waiting.push(r); p.stdin.write(JSON.stringify(msg) + '\n'); });
    (exchange ? exchange(send) : Promise.resolve()).then(() => p.stdin.end());
    p.on('close', (code) => {
      const log = spawnSync(MCPCELL, ['log', '--json'], { env: home.env, encoding: 'utf8' });
      const audit = log.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      resolve({ code, stderr, audit });
    });
  });
}

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

// Checked to fail: with UV_OFFLINE taken out of the runner table the server's run asks the index,
// which it cannot reach, and the stand-in exits before the server starts; with the prefetch
// disabled (the install hosts given to the server instead) `probe before first message` is
// "reached" and the registry sees /probe-before.
test('uvx: prefetch in its own step, then the server runs offline without the install hosts', { skip }, async () => {
  hits = [];
  const r = await run(['--profile', profile('uvx'), '--name', 'pyfix', '--',
    join(RUNNERS, 'uvx'), PKG, `http://registry.example.test:${port}`]);
  assert.equal(r.code, 0, r.stderr);

  // (a) the prefetch reached the registry; (b) the server did not.
  assert.ok(hits.includes(`/simple/${PKG}/`) && hits.includes(`/files/${PKG}-1.0.0.py`), hits.join(' '));
  assert.match(r.stderr, /fixture server started/);
  assert.match(r.stderr, /probe before first message: failed/);
  assert.ok(!hits.some((h) => h.startsWith('/probe')), hits.join(' '));
  // The offline run asked no index either: every index request came from the prefetch.
  assert.equal(hits.filter((h) => h.startsWith('/simple/')).length, 1, hits.join(' '));

  // (c) install.start / install.end around the step, before session.start.
  const events = r.audit.filter((x) => x.server === 'pyfix');
  const at = (pred) => events.findIndex(pred);
  const iStart = at((x) => x.event === 'install.start');
  const iEnd = at((x) => x.event === 'install.end');
  const sStart = at((x) => x.event === 'session.start');
  assert.ok(iStart >= 0 && iStart < iEnd && iEnd < sStart, events.map((x) => x.event).join(' '));
  assert.equal(events[iStart].runner, 'uvx');
  assert.deepEqual(events[iStart].command, [join(RUNNERS, 'uvx'), '--from', PKG, 'true']);
  assert.equal(events[iEnd].exit, 0);
  assert.ok(events[iEnd].hosts_revoked.includes(`registry.example.test:${port}`));
  assert.ok(events[iEnd].hosts_revoked.includes('pypi.org:443'), 'the Python runtime base');
  const installAllows = events.slice(iStart, iEnd).filter((x) => x.event === 'net.allow');
  assert.ok(installAllows.length >= 2 && installAllows.every((x) => x.phase === 'install'),
    JSON.stringify(installAllows));

  const net = events[sStart].sandbox.network;
  assert.equal(net.install.phase, 'separate');
  assert.deepEqual(net.install.offline_env, { UV_OFFLINE: '1' });
  assert.deepEqual(net.allow, ['api.example.test:443'], 'the server gets only network.allow');
  // The server's records start after install.end, not at session.start: the egress serves the
  // server from before session.start is written, and a fast server's first lookup can precede it.
  const server = events.slice(iEnd + 1);
  const refused = server.find((x) => x.event === 'net.deny' && x.host === 'registry.example.test');
  assert.ok(refused && refused.via === 'dns' && refused.phase === undefined, JSON.stringify(server));
  assert.equal(server.filter((x) => x.event === 'net.allow').length, 0, JSON.stringify(server));

  // The step filled the server's own private cache (UV_CACHE_DIR in its private state
  // directory), which the offline run then used: it had no other way to get the package.
  const cached = readdirSync(home.stateDir, { recursive: true })
    .filter((p) => p.endsWith(join('.cache', 'uv', 'environments-standin')));
  assert.equal(cached.length, 1, 'one private uv cache');
});

// Checked to fail with the prefetch disabled, like the uvx test (the row is a separate one).
test('uv tool run: the same two phases', { skip }, async () => {
  hits = [];
  const r = await run(['--profile', profile('uvtool'), '--name', 'pyfix2', '--',
    join(RUNNERS, 'uv'), 'tool', 'run', PKG, `http://registry.example.test:${port}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(hits.includes(`/files/${PKG}-1.0.0.py`), hits.join(' '));
  assert.match(r.stderr, /probe before first message: failed/);
  const start = r.audit.find((x) => x.server === 'pyfix2' && x.event === 'install.start');
  assert.deepEqual(start.command, [join(RUNNERS, 'uv'), 'tool', 'run', '--from', PKG, 'true']);
});

// Checked to fail: with the exit status of the step ignored, the server starts (code 0 or the
// stand-in's own error) and no 125.
test('uvx: a failed prefetch stops the run with 125 before the server starts', { skip }, async () => {
  const r = await run(['--profile', profile('uvxmissing'), '--name', 'pymissing', '--',
    join(RUNNERS, 'uvx'), 'no-such-package-here']);
  assert.equal(r.code, 125, r.stderr);
  assert.match(r.stderr, /install step \(uvx prefetch of 'no-such-package-here'\) failed with exit status 1/);
  assert.match(r.stderr, /the server was not started/);
  const events = r.audit.filter((x) => x.server === 'pymissing');
  assert.notEqual(events.find((x) => x.event === 'install.end').exit, 0);
  assert.equal(events.find((x) => x.event === 'session.start').started, false);
});

// Checked to fail: without the revocation (the filter not added) the ping's probe is "reached"
// and the registry sees /probe-after.
test('pipx run (no offline mode): install hosts until the first message, then revoked', { skip }, async () => {
  hits = [];
  const r = await run(['--profile', profile('pipx'), '--name', 'pipxfix', '--',
    join(RUNNERS, 'pipx'), 'run', PKG, `http://registry.example.test:${port}`], async (send) => {
    const init = await send(initialize);
    assert.equal(init.id, 1);
    const pong = await send({ jsonrpc: '2.0', id: 2, method: 'ping' });
    assert.equal(pong.id, 2);
  });
  assert.equal(r.code, 0, r.stderr);
  // The runner fetched the package during the run; the server reached the registry while starting.
  assert.ok(hits.includes(`/files/${PKG}-1.0.0.py`), hits.join(' '));
  assert.match(r.stderr, /probe before first message: reached/);
  // After its first message it cannot: refused at once (the name still resolves to the sandbox's
  // pool address, whose listener resets the connection).
  assert.match(r.stderr, /probe after first message: failed: .*(refused|reset)/i);
  assert.ok(!hits.includes('/probe-after'), hits.join(' '));

  const events = r.audit.filter((x) => x.server === 'pipxfix');
  const sStart = events.findIndex((x) => x.event === 'session.start');
  const net = events[sStart].sandbox.network;
  assert.equal(net.install.phase, 'until_first_message');
  assert.equal(net.install.runner, 'pipx run');
  assert.ok(net.install_until_first_message.includes(`registry.example.test:${port}`));
  assert.deepEqual(net.allow, ['api.example.test:443']);
  assert.equal(events.find((x) => x.event === 'install.start'), undefined, 'no separate step');
  const revoked = events.findIndex((x) => x.event === 'install.revoked');
  assert.ok(revoked > sStart, events.map((x) => x.event).join(' '));
  assert.ok(events[revoked].hosts.includes(`registry.example.test:${port}`));
  // All of this server's records before the revocation (the egress serves it from before
  // session.start is written, so the runner's first fetches can precede that record).
  const allowedBefore = events.slice(0, revoked).filter((x) => x.event === 'net.allow' && x.host === 'registry.example.test');
  assert.ok(allowedBefore.length >= 3, JSON.stringify(allowedBefore)); // index, file, probe-before
  const denied = events.slice(revoked).find((x) => x.event === 'net.deny' && x.host === 'registry.example.test');
  assert.ok(denied && /revoked/.test(denied.reason) && denied.via === 'connect', JSON.stringify(events.slice(revoked)));
});
