// The install phase of a package runner (issue 5): `mcpcell --profile FILE -- npx -y PKG` fetches
// the package in a separate sandboxed step that alone can reach the profile's `network.install`
// hosts, then runs the server offline from its own cache with only `network.allow`.
//
// The registry is a stand-in on the host's 127.0.0.1 (a tiny node http server serving a packument
// and a tarball of a fixture package made here), reached by the name registry.example.test, which
// the test-only resolver file maps to it. The fixture "server" probes the registry from inside the
// running server: it must be refused, and the audit log (`mcpcell log --json`) must show both phases.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, readFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { MCPCELL, NODE_MODULES, tempHome } from './lib/env.mjs';
import { standInRegistry } from './lib/registry.mjs';

const userns = spawnSync('unshare', ['-Urn', 'true']).status === 0;
const npx = spawnSync('sh', ['-c', 'command -v npx'], { encoding: 'utf8' }).stdout.trim();
const skip = !existsSync(MCPCELL) ? `${MCPCELL} not built`
  : !userns ? 'this kernel does not allow unprivileged user+network namespaces'
  : !npx ? 'npx is not installed' : false;
if (skip) console.log(`# skipping install-phase tests: ${skip}`);

const PKG = 'mcpcell-fixture-server';
let home, registry, port, hits = [];

// The fixture package: its bin reports what it can reach and exits.
const SERVER_JS = `#!/usr/bin/env node
const probe = (url) => fetch(url).then(() => 'reached', (e) => e.cause?.code ?? e.message);
(async () => {
  console.error('fixture server started');
  console.error('probe registry: ' + await probe(process.argv[2]));
  console.error('probe localhost: ' + await probe(process.argv[3]));
})();
`;

function makeTarball(root) {
  const dir = join(root, 'pkg', 'package');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: PKG, version: '1.0.0', bin: { [PKG]: 'server.js' } }));
  writeFileSync(join(dir, 'server.js'), SERVER_JS);
  chmodSync(join(dir, 'server.js'), 0o755);
  const tgz = join(root, 'pkg.tgz');
  const r = spawnSync('tar', ['-czf', tgz, '-C', join(root, 'pkg'), 'package']);
  assert.equal(r.status, 0, String(r.stderr));
  return readFileSync(tgz);
}

before(async () => {
  if (skip) return;
  home = tempHome('mcpcell-install-');
  const tgz = makeTarball(home.root);
  ({ server: registry, port } = await standInRegistry(home, (req, res) => {
    hits.push(req.url);
    const base = `http://registry.example.test:${port}`;
    if (req.url === `/${PKG}`) {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({
        name: PKG,
        'dist-tags': { latest: '1.0.0' },
        versions: {
          '1.0.0': {
            name: PKG, version: '1.0.0', bin: { [PKG]: 'server.js' },
            dist: {
              tarball: `${base}/${PKG}/-/${PKG}-1.0.0.tgz`,
              shasum: createHash('sha1').update(tgz).digest('hex'),
              integrity: `sha512-${createHash('sha512').update(tgz).digest('base64')}`,
            },
          },
        },
      }));
    }
    if (req.url === `/${PKG}/-/${PKG}-1.0.0.tgz`) return res.end(tgz);
    res.statusCode = 404;
    res.end('{}');
  }));
});
after(() => {
  registry?.close();
  home?.cleanup();
});

function run(args) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn(MCPCELL, args, { env: home.env });
    let stderr = '';
    p.stdout.resume();
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => {
      const log = spawnSync(MCPCELL, ['log', '--json'], { env: home.env, encoding: 'utf8' });
      const audit = log.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      resolve({ code, stderr, audit, ms: Date.now() - t0 });
    });
  });
}

test('npx -y: the package is installed in a separate step; the running server cannot reach the registry', { skip }, async () => {
  const profile = join(home.root, 'fixture.json');
  writeFileSync(profile, JSON.stringify({
    schema: 1,
    description: 'fixture server installed from a stand-in registry',
    extends: ['runtime:auto'],
    network: {
      allow: ['api.example.test:443'],
      install: [`registry.example.test:${port}`, `localhost:${port}`],
    },
    env: { set: { npm_config_registry: `http://registry.example.test:${port}/` } },
  }));
  const probeUrl = `http://registry.example.test:${port}/probe`;
  const r = await run(['--profile', profile, '--name', 'fixture', '--', npx, '-y', PKG,
    probeUrl, `http://localhost:${port}/probe`]);
  assert.equal(r.code, 0, r.stderr);

  // The install step fetched the packument and the tarball; the server reached nothing.
  assert.ok(hits.includes(`/${PKG}`) && hits.includes(`/${PKG}/-/${PKG}-1.0.0.tgz`), hits.join(' '));
  assert.ok(!hits.includes('/probe'), 'the running server reached the registry');
  assert.match(r.stderr, /fixture server started/);
  assert.match(r.stderr, /probe registry: ENOTFOUND/);
  assert.match(r.stderr, /probe localhost: ECONNREFUSED/);

  const events = r.audit.filter((x) => x.server === 'fixture');
  const at = (pred) => events.findIndex(pred);
  const iStart = at((x) => x.event === 'install.start');
  const iEnd = at((x) => x.event === 'install.end');
  const sStart = at((x) => x.event === 'session.start');
  assert.ok(iStart >= 0 && iStart < iEnd && iEnd < sStart, events.map((x) => x.event).join(' '));
  assert.deepEqual(events[iStart].command, [npx, '--yes', `--package=${PKG}`, '--', 'true']);
  assert.equal(events[iEnd].exit, 0);
  // The profile's install hosts, and the Node runtime base's (registry.npmjs.org:443).
  for (const h of [`registry.example.test:${port}`, `localhost:${port}`, 'registry.npmjs.org:443'])
    assert.ok(events[iEnd].hosts_revoked.includes(h), h);
  const installAllows = events.slice(iStart, iEnd).filter((x) => x.event === 'net.allow');
  assert.ok(installAllows.length >= 1 && installAllows.every((x) => x.phase === 'install' && x.host === 'registry.example.test'),
    JSON.stringify(installAllows));

  const net = events[sStart].sandbox.network;
  assert.equal(net.install.phase, 'separate');
  assert.deepEqual(net.allow, ['api.example.test:443'], 'the server gets only network.allow');
  assert.equal(net.install_hosts_for_whole_run, undefined);
  // The server's records start after install.end: the egress serves it from before session.start
  // is written, so a fast server's first lookup can precede that record.
  const after = events.slice(iEnd + 1);
  assert.equal(after.filter((x) => x.event === 'net.allow').length, 0);
  const refused = after.find((x) => x.event === 'net.deny' && x.host === 'registry.example.test');
  assert.ok(refused && refused.via === 'dns' && refused.phase === undefined, JSON.stringify(after));

  // A second run finds the package in the server's cache; the step still runs first.
  const again = await run(['--profile', profile, '--name', 'fixture', '--', npx, '-y', PKG,
    probeUrl, `http://localhost:${port}/probe`]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /probe registry: ENOTFOUND/);
  assert.ok(!hits.includes('/probe'));
});

test('a failed install step stops the run before the server starts', { skip }, async () => {
  const profile = join(home.root, 'broken.json');
  writeFileSync(profile, JSON.stringify({
    schema: 1, extends: ['runtime:auto'],
    network: { allow: ['api.example.test:443'], install: [`registry.example.test:${port}`, `localhost:${port}`] },
    env: { set: { npm_config_registry: `http://registry.example.test:${port}/` } },
  }));
  const r = await run(['--profile', profile, '--name', 'missing', '--', npx, '-y', 'no-such-package-here']);
  assert.equal(r.code, 125, r.stderr);
  assert.match(r.stderr, /install step .* failed/);
  const events = r.audit.filter((x) => x.server === 'missing');
  assert.notEqual(events.find((x) => x.event === 'install.end').exit, 0);
  assert.equal(events.find((x) => x.event === 'session.start').started, false);
});

// pnpm dlx for real (pnpm is a pinned test peer in package.json): the step is
// `pnpm --package=PKG dlx true`, the server runs with npm_config_offline=true from pnpm's dlx
// cache in its private home. Checked to fail with the prefetch disabled (the server's own run
// then cannot fetch the package), and with the offline variable out of the table (the second
// run, past the dlx cache's age, then asks for the registry before falling back to its cache).
const PNPM = join(NODE_MODULES, '.bin', 'pnpm');
const pnpmSkip = skip || (!existsSync(PNPM) ? `${PNPM} is not installed (npm ci)` : false);
test('pnpm dlx: a separate prefetch step, then the server runs offline', { skip: pnpmSkip }, async () => {
  hits = [];
  const profile = join(home.root, 'pnpm.json');
  writeFileSync(profile, JSON.stringify({
    schema: 1,
    extends: ['runtime:auto'],
    filesystem: { read: [join(NODE_MODULES, 'pnpm'), join(NODE_MODULES, '.bin')] },
    network: { allow: ['api.example.test:443'], install: [`registry.example.test:${port}`, `localhost:${port}`] },
    env: { set: { npm_config_registry: `http://registry.example.test:${port}/` } },
  }));
  const probeUrl = `http://registry.example.test:${port}/probe`;
  const r = await run(['--profile', profile, '--name', 'pnpmfix', '--', PNPM, 'dlx', PKG,
    probeUrl, `http://localhost:${port}/probe`]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(hits.includes(`/${PKG}`) && hits.includes(`/${PKG}/-/${PKG}-1.0.0.tgz`), hits.join(' '));
  assert.match(r.stderr, /probe registry: ENOTFOUND/);
  assert.match(r.stderr, /probe localhost: ECONNREFUSED/);
  assert.ok(!hits.includes('/probe'), 'the running server reached the registry');

  const events = r.audit.filter((x) => x.server === 'pnpmfix');
  const iStart = events.findIndex((x) => x.event === 'install.start');
  const iEnd = events.findIndex((x) => x.event === 'install.end');
  const sStart = events.findIndex((x) => x.event === 'session.start');
  assert.ok(iStart >= 0 && iStart < iEnd && iEnd < sStart, events.map((x) => x.event).join(' '));
  assert.equal(events[iStart].runner, 'pnpm dlx');
  assert.deepEqual(events[iStart].command, [PNPM, `--package=${PKG}`, 'dlx', 'true']);
  assert.equal(events[sStart].sandbox.network.install.offline_env.npm_config_offline, 'true');

  // Past the dlx cache's age the offline run installs from pnpm's store, still asking nobody.
  const before = hits.length;
  writeFileSync(profile, JSON.stringify({
    ...JSON.parse(readFileSync(profile, 'utf8')),
    env: { set: { npm_config_registry: `http://registry.example.test:${port}/`, npm_config_dlx_cache_max_age: '0' } },
  }));
  // No probe arguments this time: the server itself looks nothing up, so any lookup of the
  // registry's name after session.start is pnpm's own (it retries an unreachable registry, then
  // falls back to its cache, so success alone would not show that it stayed offline).
  const again = await run(['--profile', profile, '--name', 'pnpmfix', '--', PNPM, 'dlx', PKG]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /fixture server started/);
  assert.ok(!hits.slice(before).includes('/probe'), hits.join(' '));
  const ev2 = again.audit.filter((x) => x.server === 'pnpmfix');
  // From install.end on: the egress serves the server from before session.start is written.
  const e2 = ev2.findLastIndex((x) => x.event === 'install.end');
  const asked = ev2.slice(e2 + 1).filter((x) => x.event === 'net.deny' && x.host === 'registry.example.test');
  assert.deepEqual(asked, [], 'the offline run asked for the registry');
});
