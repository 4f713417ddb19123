// Network egress (issue 5), end to end through the sandbox's network half: real programs (curl,
// python's urllib, Node's fetch, raw TCP clients) inside a fresh user+mount+net namespace reach
// allowed hosts through mcpcell's DNS and dial-out, and everything else fails fast and is logged.
//
// Only this machine's loopback and the namespaces the tests create are touched: HTTP and echo
// servers on the host's 127.0.0.1 stand in for remote hosts, reached through `localhost:PORT`
// entries and through names given to mcpcell's resolver by MCPCELL_TEST_HOSTS. Addresses such as
// 192.0.2.10 are only ever used inside the test's own network namespace, where every address is
// routed to lo; nothing leaves the machine.
//
// Driven through build/mcpcell-net-harness (the sandbox's network half on its own). When the
// sandbox is wired, the same checks run through `mcpcell --allow-net`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BUILD = process.env.MCPCELL_BUILD ?? join(process.env.MCPCELL_SOURCE ?? '.', 'build');
const HARNESS = join(BUILD, 'mcpcell-net-harness');
const NODE = process.execPath;

const userns = spawnSync('unshare', ['-Urn', 'true']).status === 0;
const skip = !existsSync(HARNESS) ? `${HARNESS} not built`
  : !userns ? 'this kernel does not allow unprivileged user+network namespaces' : false;
if (skip) console.log(`# skipping network egress tests: ${skip}`);

let dir, http, echo, httpPort, echoPort, httpHits = 0, echoHits = 0;
const BIG = Buffer.alloc(8 << 20);
for (let i = 0; i < BIG.length; i += 4) BIG.writeUInt32LE((i * 2654435761) >>> 0, i);
const BIG_SHA = createHash('sha256').update(BIG).digest('hex');

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'mcpcell-net-'));
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
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let runs = 0;
// Runs argv inside the namespace with `allow` entries; resolves {code, stdout, stderr, ms, audit}.
function inside(allow, argv, { hosts = '', input } = {}) {
  const audit = join(dir, `audit-${++runs}.jsonl`);
  const args = [...allow.flatMap((a) => ['--allow', a]), '--audit', audit, '--', ...argv];
  const env = { ...process.env, MCPCELL_TEST_HOSTS: hosts };
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn(HARNESS, args, { env });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    if (input !== undefined) p.stdin.end(input); else p.stdin.end();
    p.on('close', (code) => {
      const text = existsSync(audit) ? readFileSync(audit, 'utf8') : '';
      const records = text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      resolve({ code, stdout, stderr, ms: Date.now() - t0, audit: records });
    });
  });
}

const py = (src) => ['python3', '-c', src];
const HOSTS = () => [
  'api.example.test=127.0.0.1',
  'db.example.test=127.0.0.1',
  'meta.example.test=169.254.169.254',
  'mapped.example.test=::ffff:127.0.0.1',
  'nat64.example.test=64:ff9b::7f00:1',
  'rebind.example.test=169.254.169.254|127.0.0.1',
  'evil-example.test=127.0.0.1',
].join(';');
// A name resolving to the host's loopback is refused unless an entry names that port on
// loopback; `localhost:PORT` does, so the servers stand in for remote hosts.
const allowHttp = () => [`api.example.test:${httpPort}`, `localhost:${httpPort}`];
const denies = (r) => r.audit.filter((x) => x.event === 'net.deny');
const allows = (r) => r.audit.filter((x) => x.event === 'net.allow');

describe('allowed hosts are reached by every kind of client', { skip }, () => {
  test('curl', async () => {
    const r = await inside(allowHttp(), ['curl', '-sS', `http://api.example.test:${httpPort}/`], { hosts: HOSTS() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `hello from api.example.test:${httpPort}`);
    const [allow] = allows(r);
    assert.equal(allow.host, 'api.example.test');
    assert.equal(allow.port, httpPort);
    const close = r.audit.find((x) => x.event === 'net.close');
    assert.ok(close.bytes_out > 50 && close.bytes_in > 100, JSON.stringify(close));
  });

  test("python's urllib", async () => {
    const r = await inside(allowHttp(), py(`import urllib.request;print(urllib.request.urlopen('http://api.example.test:${httpPort}/').read().decode())`), { hosts: HOSTS() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello from api\.example\.test/);
  });

  test("Node's built-in fetch (ignores proxy variables)", async () => {
    const r = await inside(allowHttp(), [NODE, '-e', `fetch('http://api.example.test:${httpPort}/').then(r => r.text()).then(t => console.log(t))`], { hosts: HOSTS() });
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
    const r = await inside([`db.example.test:${echoPort}`, `localhost:${echoPort}`], py(src), { hosts: HOSTS() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ping\nbye\n');
  });

  test('localhost:PORT is the host loopback port', async () => {
    const r = await inside([`localhost:${httpPort}`], ['curl', '-sS', `http://localhost:${httpPort}/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `hello from localhost:${httpPort}`);
    assert.equal(allows(r)[0].host, 'localhost');
  });

  test('8 MiB arrive intact through fetch', async () => {
    const src = `fetch('http://api.example.test:${httpPort}/big').then(r => r.arrayBuffer()).then(b => console.log(require('crypto').createHash('sha256').update(Buffer.from(b)).digest('hex')))`;
    const r = await inside(allowHttp(), [NODE, '-e', src], { hosts: HOSTS() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), BIG_SHA);
    assert.ok(r.audit.find((x) => x.event === 'net.close').bytes_in > BIG.length);
  });
});

describe('everything else fails fast and is logged', { skip }, () => {
  const fast = (r) => assert.ok(r.ms < 3000, `took ${r.ms} ms`);

  test('a name not in the list: NXDOMAIN for curl, python and node', async () => {
    for (const argv of [
      ['curl', '-sS', `http://other.example.test:${httpPort}/`],
      py(`import urllib.request;urllib.request.urlopen('http://other.example.test:${httpPort}/')`),
      [NODE, '-e', `fetch('http://other.example.test:${httpPort}/').catch(e => { console.error(e.cause?.code); process.exit(3) })`],
    ]) {
      const r = await inside(allowHttp(), argv, { hosts: HOSTS() });
      assert.notEqual(r.code, 0);
      fast(r);
      const d = denies(r).find((x) => x.host === 'other.example.test');
      assert.ok(d, JSON.stringify(r.audit));
      assert.equal(d.via, 'dns');
    }
  });

  test('look-alike evil-example.test against *.example.test', async () => {
    const r = await inside([`*.example.test:${httpPort}`, `localhost:${httpPort}`],
      ['sh', '-c', `curl -sS http://api.example.test:${httpPort}/ && curl -sS http://evil-example.test:${httpPort}/`], { hosts: HOSTS() });
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
    const r = await inside([`*.example.test:${httpPort}`], py(src), { hosts: HOSTS() });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['(0, 1)', '(3, 0)', '(3, 0)', '(3, 0)']);
    const hosts = denies(r).map((x) => x.host);
    assert.ok(hosts.includes('evil\\x00.api.example.test'), hosts.join(' '));
    assert.ok(hosts.includes('evil.api.example.test') || hosts.some((h) => h.startsWith('evil.api')));
  });

  test('IP literals, even the stand-in server itself', async () => {
    const src = `import socket
for h in ['127.0.0.1', '192.0.2.10']:
    try:
        s = socket.create_connection((h, ${httpPort}), timeout=5); s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')
        print(h, s.recv(100) or 'closed')
    except OSError as e: print(h, type(e).__name__)`;
    const hits = httpHits;
    const r = await inside([`api.example.test:${httpPort}`], py(src), { hosts: HOSTS() });
    fast(r);
    assert.doesNotMatch(r.stdout, /hello/);
    assert.equal(httpHits, hits, 'the server saw no request');
    const d = denies(r).map((x) => `${x.host}:${x.port}`);
    assert.ok(d.includes(`127.0.0.1:${httpPort}`) && d.includes(`192.0.2.10:${httpPort}`), d.join(' '));
  });

  test('a port the entry does not name', async () => {
    const r = await inside([`api.example.test:${httpPort}`], ['curl', '-sS', 'http://api.example.test:22/'], { hosts: HOSTS() });
    assert.equal(r.code, 7);  // curl: could not connect
    fast(r);
    assert.ok(denies(r).some((x) => x.host === 'api.example.test' && x.port === 22));
  });

  test('names resolving to metadata, IPv4-mapped loopback or NAT64 loopback', async () => {
    const hits = httpHits;
    for (const name of ['meta', 'mapped', 'nat64']) {
      const r = await inside([`${name}.example.test:${httpPort}`, `localhost:${httpPort}`],
        ['curl', '-sS', `http://${name}.example.test:${httpPort}/`], { hosts: HOSTS() });
      assert.notEqual(r.code, 0);
      fast(r);
      const d = denies(r).find((x) => x.host === `${name}.example.test`);
      assert.ok(d && d.via === 'connect', JSON.stringify(r.audit));
      assert.match(d.reason, /metadata|IPv4 embedded/);
    }
    assert.equal(httpHits, hits);
  });

  test('rebinding between check and dial: the checked address is the one dialed', async () => {
    // The resolver answers the metadata address first and loopback (allowed here) after: an
    // implementation that looks the name up again to dial would reach the server.
    const hits = httpHits;
    const r = await inside([`rebind.example.test:${httpPort}`, `localhost:${httpPort}`],
      ['curl', '-sS', `http://rebind.example.test:${httpPort}/`], { hosts: HOSTS() });
    assert.notEqual(r.code, 0);
    assert.equal(httpHits, hits, 'the server was never reached');
    const d = denies(r).find((x) => x.host === 'rebind.example.test');
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
    const r = await inside(['api.example.test:443'], py(src), { hosts: HOSTS() });
    assert.equal(r.stdout, 'ConnectionRefusedError\nConnectionRefusedError\n');
    fast(r);
    const udp = denies(r).filter((x) => x.via === 'udp').map((x) => `${x.host}:${x.port}`);
    assert.deepEqual(udp.sort(), ['192.0.2.10:53', 'api.example.test:443']);
  });

  test('an empty list means no network at all', async () => {
    const src = `import socket
for h in ['api.example.test', 'localhost', '192.0.2.10']:
    try: socket.create_connection((h, ${httpPort}), timeout=5); print(h, 'connected')
    except OSError as e: print(h, type(e).__name__)`;
    const r = await inside([], py(src), { hosts: HOSTS() });
    fast(r);
    assert.doesNotMatch(r.stdout, /connected/);
  });
});
