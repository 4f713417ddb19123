// Network egress (issue 5), end to end through the real launcher: `mcpcell --allow-net ... --
// COMMAND` (and `--profile FILE`) runs real programs — curl, python's urllib, Node's fetch, raw TCP
// clients — in the sandbox, which reach allowed hosts through mcpcell's DNS and dial-out; anything
// else fails fast, and every decision is read back with `mcpcell log --json`.
//
// Only this machine's loopback and the sandbox's own network namespace are touched: HTTP and echo
// servers on the host's 127.0.0.1 stand in for remote hosts, reached through `localhost:PORT`
// entries and through names given to mcpcell's resolver by the test-only file
// $XDG_CONFIG_HOME/mcpcell/test-hosts (docs/network.md). Addresses such as 192.0.2.10 or
// 2001:db8::10 are only ever used inside the sandbox's network namespace, where every address is
// routed to lo; nothing leaves the machine.
//
// The commands run as the "server": their stdout is redirected to stderr (mcpcell's stdout carries
// only JSON-RPC), and mcpcell exits with the command's status.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { MCPCELL, NODE, tempHome } from './lib/env.mjs';

const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const userns = spawnSync('unshare', ['-Urn', 'true']).status === 0;
const skip = !existsSync(MCPCELL) ? `${MCPCELL} not built`
  : !userns ? 'this kernel does not allow unprivileged user+network namespaces' : false;
if (skip) console.log(`# skipping network egress tests: ${skip}`);

let home, http, echo, httpPort, echoPort, httpHits = 0, echoHits = 0;
const BIG = Buffer.alloc(8 << 20);
for (let i = 0; i < BIG.length; i += 4) BIG.writeUInt32LE((i * 2654435761) >>> 0, i);
const BIG_SHA = createHash('sha256').update(BIG).digest('hex');

// What mcpcell's resolver answers (one name per line; `|` is the next lookup's answer).
const HOSTS = [
  '# stand-ins for remote hosts: all on the host loopback, or addresses egress must refuse',
  'api.example.test=127.0.0.1',
  'db.example.test=127.0.0.1',
  'meta.example.test=169.254.169.254',
  'mapped.example.test=::ffff:127.0.0.1',
  'nat64.example.test=64:ff9b::7f00:1',
  'rebind.example.test=169.254.169.254|127.0.0.1',
  'evil-example.test=127.0.0.1',
].join('\n');

function writeHosts(h, text, mode = 0o600) {
  mkdirSync(h.configDir, { recursive: true, mode: 0o700 });
  const path = join(h.configDir, 'test-hosts');
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

before(async () => {
  if (skip) return;
  home = tempHome('mcpcell-net-');
  writeHosts(home, HOSTS);
  http = createServer((req, res) => {
    httpHits++;
    if (req.url === '/big') return res.end(BIG);
    res.end(`hello from ${req.headers.host}`);
  });
  echo = createTcpServer((s) => {
    echoHits++;
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end('bye\n'));
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  await new Promise((r) => echo.listen(0, '127.0.0.1', r));
  httpPort = http.address().port;
  echoPort = echo.address().port;
});
after(() => {
  http?.close();
  echo?.close();
  home?.cleanup();
});

// This run's records, read back the way a user would.
function auditOf(h, name) {
  const r = spawnSync(MCPCELL, ['log', '--json'], { env: h.env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((x) => x.server === name);
}

let runs = 0;
// Runs argv as the server under `flags` (e.g. --allow-net ENTRY); resolves {code, stdout (the
// command's own output), stderr (mcpcell's and the command's), ms, audit}.
function run(flags, argv, { h = home, env = {} } = {}) {
  const name = `net-${++runs}`;
  const args = ['--name', name, ...flags, '--', '/bin/sh', '-c', 'exec "$@" >&2', 'sh', ...argv];
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn(MCPCELL, args, { env: { ...h.env, ...env } });
    let stderr = '';
    p.stdout.resume();
    p.stderr.on('data', (d) => { stderr += d; });
    // stdin stays open: the session ends when the command exits.
    p.on('close', (code) => {
      const ms = Date.now() - t0;
      const stdout = stderr.split('\n').filter((l) => !l.startsWith('mcpcell: ')).join('\n');
      resolve({ code, stdout, stderr, ms, audit: auditOf(h, name) });
    });
  });
}
const allowNet = (entries) => entries.flatMap((e) => ['--allow-net', e]);

const py = (src) => [PY, '-c', src];
// A name resolving to the host's loopback is refused unless an entry names that port on
// loopback; `localhost:PORT` does, so the servers stand in for remote hosts.
const allowHttp = () => allowNet([`api.example.test:${httpPort}`, `localhost:${httpPort}`]);
const denies = (r) => r.audit.filter((x) => x.event === 'net.deny');
const allows = (r) => r.audit.filter((x) => x.event === 'net.allow');
const fast = (r) => assert.ok(r.ms < 5000, `took ${r.ms} ms`);

describe('allowed hosts are reached by every kind of client', { skip }, () => {
  test('curl', async () => {
    const r = await run(allowHttp(), ['curl', '-sS', `http://api.example.test:${httpPort}/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `hello from api.example.test:${httpPort}`);
    const [allow] = allows(r);
    assert.equal(allow.host, 'api.example.test');
    assert.equal(allow.port, httpPort);
    const close = r.audit.find((x) => x.event === 'net.close');
    assert.ok(close.bytes_out > 50 && close.bytes_in > 100, JSON.stringify(close));
    const start = r.audit.find((x) => x.event === 'session.start');
    assert.match(start.sandbox.network.note, /test-hosts/, 'the test resolver is announced');
    assert.match(r.stderr, /test-hosts exists/);
  });

  test("python's urllib", async () => {
    const r = await run(allowHttp(), py(`import urllib.request;print(urllib.request.urlopen('http://api.example.test:${httpPort}/').read().decode())`));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello from api\.example\.test/);
  });

  test("Node's built-in fetch (ignores proxy variables)", async () => {
    const r = await run(allowHttp(), [NODE, '-e', `fetch('http://api.example.test:${httpPort}/').then(r => r.text()).then(t => console.log(t))`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello from api\.example\.test/);
  });

  test('raw TCP client, with half-close passed on', async () => {
    const src = `import socket
s = socket.create_connection(('db.example.test', ${echoPort}))
s.sendall(b'ping\\n'); s.shutdown(socket.SHUT_WR)
data = b''
while True:
    d = s.recv(65536)
    if not d: break
    data += d
print(data.decode(), end='')`;
    const r = await run(allowNet([`db.example.test:${echoPort}`, `localhost:${echoPort}`]), py(src));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'ping\nbye');
  });

  test('localhost:PORT is the host loopback port', async () => {
    const r = await run(allowNet([`localhost:${httpPort}`]), ['curl', '-sS', `http://localhost:${httpPort}/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `hello from localhost:${httpPort}`);
    assert.equal(allows(r)[0].host, 'localhost');
  });

  test('8 MiB arrive intact through fetch', async () => {
    const src = `fetch('http://api.example.test:${httpPort}/big').then(r => r.arrayBuffer()).then(b => console.log(require('crypto').createHash('sha256').update(Buffer.from(b)).digest('hex')))`;
    const r = await run(allowHttp(), [NODE, '-e', src]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), BIG_SHA);
    assert.ok(r.audit.find((x) => x.event === 'net.close').bytes_in > BIG.length);
  });

  test('a profile (--profile FILE) gives the allowlist', async () => {
    const file = join(home.root, 'net-profile.json');
    writeFileSync(file, JSON.stringify({
      schema: 1, description: 'egress test', extends: ['runtime:auto'],
      network: { allow: [`api.example.test:${httpPort}`, `localhost:${httpPort}`] },
    }));
    const r = await run(['--profile', file], ['curl', '-sS', `http://api.example.test:${httpPort}/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello from api\.example\.test/);
    const start = r.audit.find((x) => x.event === 'session.start');
    assert.deepEqual(start.sandbox.network.allow, [`api.example.test:${httpPort}`, `localhost:${httpPort}`]);
    assert.equal(allows(r)[0].entry, `api.example.test:${httpPort}`);
  });
});

describe('everything else fails fast and is logged', { skip }, () => {
  test('a name not in the list: NXDOMAIN for curl, python and node', async () => {
    for (const argv of [
      ['curl', '-sS', `http://other.example.test:${httpPort}/`],
      py(`import urllib.request;urllib.request.urlopen('http://other.example.test:${httpPort}/')`),
      [NODE, '-e', `fetch('http://other.example.test:${httpPort}/').catch(e => { console.error(e.cause?.code); process.exit(3) })`],
    ]) {
      const r = await run(allowHttp(), argv);
      assert.notEqual(r.code, 0);
      fast(r);
      const d = denies(r).find((x) => x.host === 'other.example.test');
      assert.ok(d, JSON.stringify(r.audit));
      assert.equal(d.via, 'dns');
    }
  });

  test('look-alike evil-example.test against *.example.test', async () => {
    const r = await run(allowNet([`*.example.test:${httpPort}`, `localhost:${httpPort}`]),
      ['sh', '-c', `curl -sS http://api.example.test:${httpPort}/ && curl -sS http://evil-example.test:${httpPort}/`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /hello from api\.example\.test/);
    assert.ok(denies(r).some((x) => x.host === 'evil-example.test' && x.via === 'dns'));
  });

  test('NUL, dot-in-label and % in a DNS name are refused', async () => {
    // Raw DNS queries, as a hostile program would send them.
    const src = `import socket, struct
def q(labels):
    m = struct.pack('>HHHHHH', 0x4242, 0x0100, 1, 0, 0, 0)
    for l in labels: m += bytes([len(l)]) + l
    m += b'\\0' + struct.pack('>HH', 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    s.sendto(m, ('127.0.0.53', 53)); r = s.recv(512)
    return r[3] & 15, struct.unpack('>H', r[6:8])[0]
print(q([b'api', b'example', b'test']))
print(q([b'evil\\0', b'api', b'example', b'test']))
print(q([b'evil.api', b'example', b'test']))
print(q([b'api%00', b'example', b'test']))`;
    const r = await run(allowNet([`*.example.test:${httpPort}`]), py(src));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['(0, 1)', '(3, 0)', '(3, 0)', '(3, 0)']);
    const hosts = denies(r).map((x) => x.host);
    assert.ok(hosts.includes('evil\\x00.api.example.test'), hosts.join(' '));
    assert.ok(hosts.some((h) => h.startsWith('evil.api')), hosts.join(' '));
    assert.ok(hosts.some((h) => h.startsWith('api%00')), hosts.join(' '));
  });

  test('IP literals, even the stand-in server itself', async () => {
    const src = `import socket
for h in ['127.0.0.1', '192.0.2.10']:
    try:
        s = socket.create_connection((h, ${httpPort}), timeout=5); s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')
        print(h, s.recv(100) or 'closed')
    except OSError as e: print(h, type(e).__name__)`;
    const hits = httpHits;
    const r = await run(allowNet([`api.example.test:${httpPort}`]), py(src));
    fast(r);
    assert.doesNotMatch(r.stdout, /hello/);
    assert.equal(httpHits, hits, 'the server saw no request');
    const d = denies(r).map((x) => `${x.host}:${x.port}`);
    assert.ok(d.includes(`127.0.0.1:${httpPort}`) && d.includes(`192.0.2.10:${httpPort}`), d.join(' '));
  });

  test('a port the entry does not name', async () => {
    const r = await run(allowNet([`api.example.test:${httpPort}`]), ['curl', '-sS', 'http://api.example.test:22/']);
    assert.equal(r.code, 7);  // curl: could not connect
    fast(r);
    assert.ok(denies(r).some((x) => x.host === 'api.example.test' && x.port === 22));
  });

  test('names resolving to metadata, IPv4-mapped loopback or NAT64 loopback', async () => {
    const hits = httpHits;
    for (const name of ['meta', 'mapped', 'nat64']) {
      const r = await run(allowNet([`${name}.example.test:${httpPort}`, `localhost:${httpPort}`]),
        ['curl', '-sS', `http://${name}.example.test:${httpPort}/`]);
      assert.notEqual(r.code, 0);
      fast(r);
      const d = denies(r).find((x) => x.host === `${name}.example.test` && x.via === 'connect');
      assert.ok(d, JSON.stringify(r.audit));
      assert.match(d.reason, /metadata|IPv4 embedded/);
    }
    assert.equal(httpHits, hits);
  });

  test('rebinding between check and dial: the checked address is the one dialed', async () => {
    // The resolver answers the metadata address first and loopback (allowed here) after: an
    // implementation that looks the name up again to dial would reach the server.
    const hits = httpHits;
    const r = await run(allowNet([`rebind.example.test:${httpPort}`, `localhost:${httpPort}`]),
      ['curl', '-sS', `http://rebind.example.test:${httpPort}/`]);
    assert.notEqual(r.code, 0);
    assert.equal(httpHits, hits, 'the server was never reached');
    const d = denies(r).find((x) => x.host === 'rebind.example.test' && x.via === 'connect');
    assert.deepEqual(d.resolved, ['169.254.169.254']);
    assert.equal(allows(r).length, 0);
  });

  test('UDP, to any address or to an allowed name', async () => {
    const src = `import socket
for h, p in [('192.0.2.10', 53), ('api.example.test', 443)]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2); s.connect((h, p))
    s.send(b'x' * 20)
    try: s.recv(10); print('answered')
    except OSError as e: print(type(e).__name__)`;
    const r = await run(allowNet(['api.example.test:443']), py(src));
    assert.equal(r.stdout.trim(), 'ConnectionRefusedError\nConnectionRefusedError');
    fast(r);
    const udp = denies(r).filter((x) => x.via === 'udp').map((x) => `${x.host}:${x.port}`);
    assert.deepEqual(udp.sort(), ['192.0.2.10:53', 'api.example.test:443']);
  });

  test('IPv6: v6 connections and datagrams fail fast and are refused on record; AAAA lookups are noted', async () => {
    const src = `import socket
try: print('aaaa', socket.getaddrinfo('api.example.test', ${httpPort}, socket.AF_INET6))
except OSError as e: print('aaaa', type(e).__name__)
# (port 9 is served by no listener: the kernel refuses it at once, and the observer records it)
for h, p in [('2001:db8::10', ${httpPort}), ('::ffff:192.0.2.11', 9)]:
    try: socket.create_connection((h, p), timeout=5); print(h, 'connected')
    except OSError as e: print(h, type(e).__name__)
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(2); s.connect(('2001:db8::10', 443))
s.send(b'x' * 20)
try: s.recv(10); print('udp answered')
except OSError as e: print('udp', type(e).__name__)`;
    const r = await run(allowHttp(), py(src));
    fast(r);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['aaaa gaierror', '2001:db8::10 ConnectionRefusedError',
      '::ffff:192.0.2.11 ConnectionRefusedError', 'udp ConnectionRefusedError']);
    const d = denies(r);
    // An allowed name's AAAA is answered empty and recorded, but not as a refusal: every runtime
    // asks for it beside the A record, and `log --blocked` must not list every allowed host.
    assert.ok(!d.some((x) => x.via === 'dns' && x.host === 'api.example.test'), JSON.stringify(d));
    const aaaa = r.audit.find((x) => x.event === 'net.ipv6' && x.qtype === 28);
    assert.ok(aaaa && aaaa.host === 'api.example.test' && aaaa.via === 'dns', JSON.stringify(r.audit));
    assert.match(aaaa.reason, /IPv6/);
    const v6 = d.find((x) => x.via === 'connect' && x.host === '2001:db8::10');
    assert.ok(v6 && v6.port === httpPort && v6.family === 'ipv6', JSON.stringify(d));
    assert.match(v6.reason, /IPv6/);
    assert.ok(d.some((x) => x.via === 'connect' && x.host === '192.0.2.11' && x.port === 9 && !x.family), 'v4-mapped goes out as IPv4');
    assert.ok(d.some((x) => x.via === 'udp' && x.host === '2001:db8::10' && x.port === 443), JSON.stringify(d));
  });

  test('an empty list means no network at all', async () => {
    const src = `import socket
for h in ['api.example.test', 'localhost', '192.0.2.10']:
    try: socket.create_connection((h, ${httpPort}), timeout=5); print(h, 'connected')
    except OSError as e: print(h, type(e).__name__)`;
    const hits = httpHits;
    const r = await run([], py(src));
    fast(r);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /connected/);
    assert.equal(httpHits, hits);
  });
});

describe('the test resolver cannot be slipped in', { skip }, () => {
  test('mcpcell ignores MCPCELL_TEST_HOSTS in its environment', async () => {
    // What a hostile MCP client configuration could set: it must not redirect an allowed name.
    const hits = httpHits;
    const r = await run(allowNet([`envonly.example.test:${httpPort}`, `localhost:${httpPort}`]),
      ['curl', '-sS', `http://envonly.example.test:${httpPort}/`],
      { env: { MCPCELL_TEST_HOSTS: 'envonly.example.test=127.0.0.1' } });
    assert.notEqual(r.code, 0);
    assert.equal(httpHits, hits);
    const d = denies(r).find((x) => x.host === 'envonly.example.test' && x.via === 'connect');
    assert.match(d.reason, /cannot resolve/);
  });

  test('a test-hosts file someone else could write stops the run', async () => {
    const h = tempHome('mcpcell-net-perm-');
    try {
      writeHosts(h, 'api.example.test=127.0.0.1\n', 0o666);
      const r = await run(allowHttp(), ['curl', '-sS', `http://api.example.test:${httpPort}/`], { h });
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, /test-hosts must be a regular file of yours/);
    } finally {
      h.cleanup();
    }
  });
});
