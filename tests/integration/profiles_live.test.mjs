// Every shipped profile whose server is on npm, against the real server (issue 4): mcpcell picks
// the profile by matching the command (no --profile), the server starts in the real sandbox,
// answers initialize and tools/list (and prompts/resources when it advertises them), and makes
// real tool calls — those that need no network or credentials succeed; API calls fail cleanly
// (this machine has no route to the APIs and the tokens are fake) while mcpcell stays up and
// records the egress decision for the API host.
//
// Denied actions, checked inside each server's own process by a preloaded probe (lib/probe.mjs):
// a key planted in the test HOME's ~/.ssh is unreadable, a variable the profile does not name is
// absent (while the profile's token variable is present), and a host the profile does not list is
// refused and recorded as net.deny. The run adds only what the probe itself needs (read access to
// its own file and NODE_OPTIONS), none of which touches those three checks. The last tests show
// each check can fail: with --no-sandbox, or with the host added by --allow-net. The postgres server
// also runs against a real throwaway database (when PostgreSQL is installed).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { MCPCELL, SOURCE, NODE, NODE_MODULES, tempHome } from './lib/env.mjs';
import { readAudit } from './lib/audit.mjs';
import { LineClient, killAll } from './lib/linejson.mjs';
import { writeProbe, probeReport } from './lib/probe.mjs';

const require = createRequire(path.join(SOURCE, 'package.json'));
const sdk = (p) => import(require.resolve(`@modelcontextprotocol/sdk/${p}`));
const { Client } = await sdk('client/index.js');
const { StdioClientTransport } = await sdk('client/stdio.js');

const CANARY = 'canary-5b9e2a61';
const DENIED_HOST = 'exfil.mcpcell-test.example';

// The server's executable as its package.json `bin` names it (what npx would run).
function binOf(pkg, name) {
  const meta = JSON.parse(fs.readFileSync(path.join(NODE_MODULES, pkg, 'package.json'), 'utf8'));
  const rel = typeof meta.bin === 'string' ? meta.bin : meta.bin[name ?? Object.keys(meta.bin)[0]];
  return path.join(NODE_MODULES, pkg, rel);
}
// The package's own files (not its dependencies): a server must not write into its package.
function listing(pkg) {
  const root = path.join(NODE_MODULES, pkg);
  return fs.readdirSync(root, { recursive: true }).filter((f) => !f.split(path.sep).includes('node_modules')).sort();
}
const versionOf = (pkg) =>
  JSON.parse(fs.readFileSync(path.join(NODE_MODULES, pkg, 'package.json'), 'utf8')).version;

// One row per npm server. `env`: fake tokens, which the profile must pass through. `api`: the host
// its calls go to (the profile allows it; the machine cannot reach it). `calls`: real tool calls;
// `ok` ones must succeed and match, `fails` ones must come back as a clean error.
const SERVERS = [
  { profile: 'sequential-thinking', pkg: '@modelcontextprotocol/server-sequential-thinking',
    calls: [{ tool: 'sequentialthinking', ok: /"thoughtNumber": 1/,
      args: { thought: 'sandbox first', nextThoughtNeeded: false, thoughtNumber: 1, totalThoughts: 1 } }] },
  { profile: 'brave-search', pkg: '@brave/brave-search-mcp-server', env: { BRAVE_API_KEY: 'fake' },
    api: 'api.search.brave.com', calls: [{ tool: 'brave_web_search', args: { query: 'mcpcell' }, fails: true }] },
  { profile: 'brave-search', pkg: '@modelcontextprotocol/server-brave-search', env: { BRAVE_API_KEY: 'fake' },
    api: 'api.search.brave.com', calls: [{ tool: 'brave_web_search', args: { query: 'mcpcell' }, fails: true }] },
  { profile: 'cloudflare', pkg: '@cloudflare/mcp-server-cloudflare', args: ['run', '0123456789abcdef'],
    env: { CLOUDFLARE_API_TOKEN: 'fake' }, api: 'api.cloudflare.com',
    calls: [{ tool: 'worker_list', args: {}, fails: true }] },
  { profile: 'context7', pkg: '@upstash/context7-mcp', env: { CONTEXT7_API_KEY: 'fake' }, api: 'context7.com',
    calls: [{ tool: 'resolve-library-id', args: { query: 'react hooks', libraryName: 'react' }, fails: true }] },
  { profile: 'exa', pkg: 'exa-mcp-server', env: { EXA_API_KEY: 'fake' }, api: 'api.exa.ai',
    calls: [{ tool: 'web_search_exa', args: { query: 'mcpcell' }, fails: true }] },
  { profile: 'figma', pkg: 'figma-developer-mcp', args: ['--stdio'], env: { FIGMA_API_KEY: 'fake' },
    api: 'api.figma.com', calls: [{ tool: 'get_figma_data', args: { fileKey: 'abc123' }, fails: true }] },
  { profile: 'firecrawl', pkg: 'firecrawl-mcp', env: { FIRECRAWL_API_KEY: 'fc-fake' }, api: 'api.firecrawl.dev',
    calls: [{ tool: 'firecrawl_scrape', args: { url: 'https://example.com' }, fails: true }] },
  { profile: 'github', pkg: '@modelcontextprotocol/server-github', env: { GITHUB_PERSONAL_ACCESS_TOKEN: 'fake' },
    api: 'api.github.com', calls: [{ tool: 'search_repositories', args: { query: 'mcpcell' }, fails: true }] },
  { profile: 'gitlab', pkg: '@modelcontextprotocol/server-gitlab', env: { GITLAB_PERSONAL_ACCESS_TOKEN: 'fake' },
    api: 'gitlab.com', calls: [{ tool: 'search_repositories', args: { search: 'mcpcell' }, fails: true }] },
  { profile: 'google-maps', pkg: '@modelcontextprotocol/server-google-maps', env: { GOOGLE_MAPS_API_KEY: 'fake' },
    api: 'maps.googleapis.com', calls: [{ tool: 'maps_geocode', args: { address: 'Berlin' }, fails: true }] },
  { profile: 'linear', pkg: '@tacticlaunch/mcp-linear', env: { LINEAR_API_KEY: 'lin_api_fake' },
    api: 'api.linear.app', calls: [{ tool: 'linear_getViewer', args: {}, fails: true }] },
  // linear-mcp-server (jerhadf): every tool is a Linear API call; the key is checked at start-up.
  { profile: 'linear', pkg: 'linear-mcp-server', env: { LINEAR_API_KEY: 'lin_api_fake' },
    api: 'api.linear.app', calls: [{ tool: 'linear_search_issues', args: { query: 'mcpcell' }, fails: true }] },
  { profile: 'notion', pkg: '@notionhq/notion-mcp-server', env: { NOTION_TOKEN: 'ntn_fake' },
    api: 'api.notion.com', calls: [{ tool: 'API-get-self', args: {}, fails: true }] },
  // postgres and redis: the URL argument's host:port is the allow entry (${host:arg:1}).
  { profile: 'postgres', pkg: '@modelcontextprotocol/server-postgres',
    args: ['postgresql://reader@db.mcpcell-test.example:5432/app'], api: 'db.mcpcell-test.example',
    calls: [{ tool: 'query', args: { sql: 'SELECT 1' }, fails: true }] },
  // The redis server connects before it answers initialize, retrying for a minute.
  { profile: 'redis', pkg: '@modelcontextprotocol/server-redis', args: ['redis://cache.mcpcell-test.example:6379'],
    api: 'cache.mcpcell-test.example', initFails: true },
  { profile: 'sentry', pkg: '@sentry/mcp-server', env: { SENTRY_ACCESS_TOKEN: 'fake' }, api: 'sentry.io',
    calls: [{ tool: 'find_organizations', args: {}, fails: true }] },
  { profile: 'slack', pkg: '@modelcontextprotocol/server-slack', env: { SLACK_BOT_TOKEN: 'xoxb-fake', SLACK_TEAM_ID: 'T0000' },
    api: 'slack.com', calls: [{ tool: 'slack_list_channels', args: {}, fails: true }] },
  // Stripe's package is a stdio front for mcp.stripe.com: even initialize goes there.
  { profile: 'stripe', pkg: '@stripe/mcp', env: { STRIPE_SECRET_KEY: 'rk_test_fake' }, api: 'mcp.stripe.com',
    initFails: true },
  // Supabase builds its tool list from the API's feature flags: tools/list itself needs the API.
  { profile: 'supabase', pkg: '@supabase/mcp-server-supabase', env: { SUPABASE_ACCESS_TOKEN: 'sbp_fake' },
    api: 'supabase.com', listFails: true },
  { profile: 'tavily', pkg: 'tavily-mcp', env: { TAVILY_API_KEY: 'tvly-fake' }, api: 'api.tavily.com',
    calls: [{ tool: 'tavily_search', args: { query: 'mcpcell' }, fails: true }] },
];

// Isolation needs user namespaces; a kernel without them is the one reason to skip.
let sandboxSkip = false;
before(() => {
  const h = tempHome('mcpcell-live-probe-');
  const r = spawnSync(MCPCELL, ['--', '/bin/true'], { env: h.env, encoding: 'utf8' });
  h.cleanup();
  if (r.status !== 0 && /namespace|unprivileged|user_namespaces/i.test(r.stderr)) {
    sandboxSkip = `this kernel cannot run the sandbox: ${r.stderr.trim().split('\n')[0]}`;
  }
});

const homes = [];
after(() => { killAll(); for (const h of homes) h.cleanup(); });

// Servers built on SDK 0.6 (@cloudflare/mcp-server-cloudflare) still wrap results in `toolResult`.
const body = (result) => result.toolResult ?? result;
const text = (result) => (body(result).content || []).map((c) => c.text || '').join('\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

// Starts the row's server through mcpcell with a fresh HOME holding a planted key; `flags` are
// mcpcell options added before `--`. Returns what a test needs to drive and inspect the run.
async function start(s, flags = [], { raw = false } = {}) {
  const h = tempHome(`mcpcell-live-${s.profile}-`);
  homes.push(h);
  const keyPath = path.join(h.home, '.ssh', 'id_ed25519');
  fs.mkdirSync(path.dirname(keyPath), { mode: 0o700 });
  fs.writeFileSync(keyPath, '-----BEGIN OPENSSH PRIVATE KEY-----\nplanted\n', { mode: 0o600 });
  const probeDir = path.join(h.root, 'probe');
  fs.mkdirSync(probeDir);
  const probe = writeProbe(probeDir, { keyPath, names: Object.keys(s.env ?? {}), host: DENIED_HOST });
  const env = { ...h.env, ...(s.env ?? {}), MCPCELL_TEST_SECRET: CANARY, NODE_OPTIONS: `--require ${probe}` };
  const args = ['--allow-read', probeDir, '--allow-env', 'NODE_OPTIONS', ...flags,
    '--', NODE, binOf(s.pkg, s.bin), ...(s.args ?? [])];
  const audit = () => readAudit(h.auditPath);
  if (raw) {
    const line = new LineClient([MCPCELL, ...args], { env, cwd: h.root });
    return { h, line, stderr: () => line.stderr, audit };
  }
  const transport = new StdioClientTransport({ command: MCPCELL, args, env, cwd: h.root, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  const client = new Client({ name: 'profiles-live-test', version: '0' }, { capabilities: {} });
  return { h, client, transport, stderr: () => stderr, audit };
}

// Waits until the audit trail has a record satisfying `pred` (egress records arrive on their own
// thread); returns it or undefined.
async function waitRecord(run, pred, ms = 8000) {
  const t0 = Date.now();
  for (;;) {
    const r = run.audit().find(pred);
    if (r || Date.now() - t0 > ms) return r;
    await sleep(100);
  }
}

async function waitProbe(run, ms = 8000) {
  const t0 = Date.now();
  for (;;) {
    const r = probeReport(run.stderr());
    if (r || Date.now() - t0 > ms) return r;
    await sleep(100);
  }
}

// A call that must fail cleanly: an error result (some servers report errors as plain text), or a
// JSON-RPC error — not a dead connection.
async function callExpectingError(client, tool, args) {
  try {
    const r = await client.callTool({ name: tool, arguments: args }, undefined, { timeout: 30000 });
    assert.ok(body(r).isError || /error|fail/i.test(text(r)), `${tool} succeeded without its API: ${text(r).slice(0, 300)}`);
    return text(r);
  } catch (e) {
    assert.ok(typeof e.code === 'number' && e.code !== -32001, `${tool}: ${e.message}`);
    return e.message;
  }
}

describe('shipped profiles with their real npm servers', { concurrency: 2 }, () => {
  for (const s of SERVERS) {
    test(`${s.profile} (${s.pkg}@${versionOf(s.pkg)})`, async (t) => {
      if (sandboxSkip) return t.skip(sandboxSkip);
      const files = listing(s.pkg);
      const run = await start(s, [], { raw: !!s.initFails });
      const { client } = run;
      try {
        if (s.initFails) {
          // No answer comes (the server cannot reach its backend); mcpcell must stay up meanwhile.
          run.line.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {
            protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'profiles-live-test', version: '0' } } });
          await waitRecord(run, (r) => r.host === s.api);
          await sleep(500);
          assert.ok(alive(run.line.pid), `mcpcell exited: ${run.stderr().slice(-2000)}`);
        } else {
          await client.connect(run.transport, { timeout: 30000 }).catch((e) => {
            throw new Error(`${s.pkg} did not start: ${e.message}\n${run.stderr().slice(-3000)}`);
          });
          const caps = client.getServerCapabilities();
          if (s.listFails) {
            await assert.rejects(client.listTools(undefined, { timeout: 30000 }), (e) => typeof e.code === 'number');
          } else {
            const { tools } = await client.listTools();
            for (const c of s.calls ?? []) assert.ok(tools.some((x) => x.name === c.tool), `no tool ${c.tool}`);
          }
          if (caps.prompts) await client.listPrompts();
          if (caps.resources) await client.listResources().catch((e) => assert.equal(typeof e.code, 'number', e.message));
          for (const c of s.calls ?? []) {
            if (c.fails) {
              await callExpectingError(client, c.tool, c.args);
            } else {
              const r = await client.callTool({ name: c.tool, arguments: c.args });
              assert.ok(!r.isError, text(r));
              assert.match(text(r), c.ok);
            }
          }
          // Still up and answering after the failed calls.
          await client.ping();
        }

        const rec = run.audit();
        const startRec = rec.find((r) => r.event === 'session.start');
        assert.ok(startRec, 'no session.start');
        assert.equal(startRec.profile, s.profile, JSON.stringify(startRec));

        if (s.api) {
          // The API host passed the profile's allowlist: net.allow, or — where, as on the test
          // machine, mcpcell itself cannot resolve it — a refusal at the dial, never at the list.
          const apiRec = await waitRecord(run, (r) => r.host === s.api &&
            (r.event === 'net.allow' || (r.event === 'net.deny' && r.via === 'connect')));
          const net = () => JSON.stringify(run.audit().filter((r) => r.event.startsWith('net.')));
          assert.ok(apiRec, `${s.api} was not let through: ${net()}`);
          assert.doesNotMatch(apiRec.reason ?? '', /allowlist/, net());
        }

        const rep = await waitProbe(run);
        assert.ok(rep, `no probe report in stderr: ${run.stderr().slice(-2000)}`);
        assert.doesNotMatch(rep.ssh, /^read/, 'the planted ssh key was readable');
        assert.equal(rep.secret, false, 'a variable the profile does not name reached the server');
        for (const n of Object.keys(s.env ?? {})) assert.equal(rep.env[n], true, `${n} did not reach the server`);
        assert.notEqual(rep.net, 'connected', `${DENIED_HOST} was reachable`);
        if (s.api) {
          // With a network allow list, the refusal of an unlisted name is recorded.
          const deny = await waitRecord(run, (r) => r.event === 'net.deny' && r.host === DENIED_HOST);
          assert.ok(deny, `no net.deny for ${DENIED_HOST}`);
        }
        assert.ok(!run.audit().some((r) => r.event === 'net.allow' && r.host === DENIED_HOST));
        assert.deepEqual(listing(s.pkg), files, 'the server wrote into its package directory');
      } finally {
        if (client) await client.close().catch(() => {});
        if (run.line) { run.line.kill('SIGKILL'); await run.line.exit().catch(() => {}); }
      }
    });
  }
});

// The checks above can fail: the same probe, run the same way, sees through a missing boundary.
describe('the denied actions are real (each check fails without its boundary)', () => {
  const row = (profile) => SERVERS.find((s) => s.profile === profile);

  for (const name of ['sequential-thinking', 'github']) {
    test(`${name} with --no-sandbox: the probe reads the key and sees the unlisted variable`, async (t) => {
      if (sandboxSkip) return t.skip(sandboxSkip);
      const run = await start(row(name), ['--no-sandbox']);
      try {
        await run.client.connect(run.transport, { timeout: 30000 });
        const rep = await waitProbe(run);
        assert.ok(rep, run.stderr());
        assert.match(rep.ssh, /^read \d+ bytes$/);
        assert.equal(rep.secret, true);
      } finally {
        await run.client.close().catch(() => {});
      }
    });
  }

  test('github with the probe host added by --allow-net: it passes the allowlist', async (t) => {
    if (sandboxSkip) return t.skip(sandboxSkip);
    const run = await start(row('github'), ['--allow-net', `${DENIED_HOST}:443`]);
    try {
      await run.client.connect(run.transport, { timeout: 30000 });
      assert.ok(await waitProbe(run), run.stderr());
      const through = await waitRecord(run, (r) => r.host === DENIED_HOST &&
        (r.event === 'net.allow' || (r.event === 'net.deny' && r.via === 'connect')));
      assert.ok(through, JSON.stringify(run.audit().filter((r) => r.event.startsWith('net.'))));
      assert.ok(!run.audit().some((r) => r.event === 'net.deny' && r.host === DENIED_HOST && r.via === 'dns'));
    } finally {
      await run.client.close().catch(() => {});
    }
  });
});

// Profiles of servers that read the user's own configuration: HOME in the sandbox is the private
// state directory, so the profile must point the server back at the real file it grants.
describe('profiles that hand a server its configuration', () => {
  test('cloudflare: the wrangler login in ~/.config/.wrangler is found (read-only)', async (t) => {
    if (sandboxSkip) return t.skip(sandboxSkip);
    const s = { profile: 'cloudflare', pkg: '@cloudflare/mcp-server-cloudflare', args: ['run', '0123456789abcdef'] };
    const run = await start(s);
    const toml = path.join(run.h.home, '.config/.wrangler/config/default.toml');
    fs.mkdirSync(path.dirname(toml), { recursive: true });
    fs.writeFileSync(toml, 'oauth_token = "wrangler-login"\nexpiration_time = "2099-01-01T00:00:00.000Z"\n');
    try {
      await run.client.connect(run.transport, { timeout: 30000 });
      assert.match(run.stderr(), /Config loaded: \{"accountId":"✓","apiToken":"✓"\}/, run.stderr());
    } finally {
      await run.client.close().catch(() => {});
    }
  });

  test('git: the real git reads ~/.gitconfig through the git profile', async (t) => {
    if (sandboxSkip) return t.skip(sandboxSkip);
    const h = tempHome('mcpcell-live-git-');
    homes.push(h);
    fs.writeFileSync(path.join(h.home, '.gitconfig'), '[user]\n\tname = Sandboxed Tester\n');
    const git = spawnSync('/bin/sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim();
    if (!git) return t.skip('git is not installed');
    // stdout is the MCP channel (mcpcell drops lines that are not JSON-RPC): answer on stderr.
    const r = spawnSync(MCPCELL, ['--profile', 'git', '--', '/bin/sh', '-c', `${git} config --global user.name >&2`],
      { env: h.env, cwd: h.root, encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^Sandboxed Tester$/m);
  });
});

// A real database for the postgres server: a throwaway cluster on the host's 127.0.0.1. The
// profile's ${host:arg:1} turns the URL's localhost:PORT into the one allow entry.
describe('postgres against a real database', () => {
  const which = (c) => spawnSync('/bin/sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).stdout.trim();
  const initdb = which('initdb');
  const pgCtl = which('pg_ctl');
  const pgSkip = !initdb || !pgCtl ? 'PostgreSQL (initdb, pg_ctl) is not installed' : false;
  let dir, port, asUser = [];

  before(async () => {
    if (pgSkip || sandboxSkip) return;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpcell-pg-'));
    // initdb refuses to run as root; the cluster then belongs to nobody.
    if (process.getuid() === 0) {
      fs.chmodSync(dir, 0o777);
      asUser = ['runuser', '-u', 'nobody', '--'];
    }
    const run = (argv) => {
      const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 60000 });
      assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}${r.stdout}`);
    };
    run([...asUser, initdb, '-D', path.join(dir, 'data'), '-U', 'tester', '--auth=trust']);
    port = await freePort();
    run([...asUser, pgCtl, '-D', path.join(dir, 'data'), '-l', path.join(dir, 'log'), '-w',
      '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
  });
  after(() => {
    if (!dir) return;
    const stop = [...asUser, pgCtl, '-D', path.join(dir, 'data'), '-m', 'immediate', 'stop'];
    spawnSync(stop[0], stop.slice(1));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('queries work, writes are refused, only the URL\'s host:port is reachable', async (t) => {
    if (sandboxSkip) return t.skip(sandboxSkip);
    if (pgSkip) return t.skip(pgSkip);
    const s = { profile: 'postgres', pkg: '@modelcontextprotocol/server-postgres',
      args: [`postgresql://tester@localhost:${port}/postgres`] };
    const run = await start(s);
    try {
      await run.client.connect(run.transport, { timeout: 30000 });
      const q = await run.client.callTool({ name: 'query', arguments: { sql: 'SELECT 40 + 2 AS answer' } });
      assert.ok(!q.isError, text(q) + run.stderr());
      assert.match(text(q), /"answer": 42/);
      // The server wraps every query in a READ ONLY transaction.
      const w = await callExpectingError(run.client, 'query', { sql: 'CREATE TABLE planted (x int)' });
      assert.match(w, /read-only/);
      assert.equal(run.audit().find((r) => r.event === 'session.start').profile, 'postgres');
      const allow = await waitRecord(run, (r) => r.event === 'net.allow' && r.port === port);
      assert.ok(allow, JSON.stringify(run.audit().filter((r) => r.event.startsWith('net.'))));
      const rep = await waitProbe(run);
      assert.ok(rep, run.stderr());
      assert.doesNotMatch(rep.ssh, /^read/);
      assert.equal(rep.secret, false);
      assert.notEqual(rep.net, 'connected');
      assert.ok(await waitRecord(run, (r) => r.event === 'net.deny' && r.host === DENIED_HOST));
    } finally {
      await run.client.close().catch(() => {});
    }
  });
});

async function freePort() {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// Servers that cannot run here still get their profile by matching. PyPI is unreachable from the
// test machine, and mongodb-mcp-server is left out of package.json (docs/profiles.md says why), so
// this checks what can be checked without them: the launch command an editor would use picks the
// right profile, and that profile resolves and passes `profile check`.
describe('servers not installed here: matching and resolution', () => {
  const NOT_INSTALLED = [
    ['time', ['uvx', 'mcp-server-time', '--local-timezone', 'Europe/Paris']],
    ['fetch', ['uvx', 'mcp-server-fetch']],
    ['git', ['uvx', 'mcp-server-git', '--repository', '.']],
    ['sqlite', ['uvx', 'mcp-server-sqlite', '--db-path', './data/app.db']],
    ['aws-documentation', ['uvx', 'awslabs.aws-documentation-mcp-server@latest']],
    ['mongodb', ['npx', '-y', 'mongodb-mcp-server']],
  ];
  for (const [profile, argv] of NOT_INSTALLED) {
    test(`${argv.slice(0, 3).join(' ')} gets ${profile}`, () => {
      const h = tempHome('mcpcell-live-match-');
      homes.push(h);
      const r = spawnSync(MCPCELL, ['profile', 'show', '--json', '--', ...argv],
        { env: h.env, cwd: h.root, encoding: 'utf8', timeout: 60000 });
      assert.equal(r.status, 0, r.stderr);
      const shown = JSON.parse(r.stdout);
      assert.equal(shown.profile, profile, shown.chosen_by);
      const c = spawnSync(MCPCELL, ['profile', 'check', path.join(SOURCE, 'profiles', `${profile}.json`)],
        { env: h.env, encoding: 'utf8' });
      assert.equal(c.status, 0, c.stderr);
    });
  }
});

// The browser tests drive the system's Chromium. Debian's /usr/bin/chromium is a wrapper script
// that reads /proc/cpuinfo, which the sandbox's /proc does not have; the binary itself runs.
const CHROMIUM = '/usr/lib/chromium/chromium';
const chromiumSkip = !fs.existsSync(CHROMIUM) ? `no system Chromium at ${CHROMIUM}` : false;

// A service on the host's loopback that a sandboxed browser must not reach; counts its requests.
async function hostLoopbackService() {
  const { createServer } = await import('node:http');
  let hits = 0;
  const srv = createServer((req, res) => { hits++; res.end('<h1>host loopback service</h1>'); });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { port: srv.address().port, get hits() { return hits; }, close: () => srv.close() };
}

// Playwright with the system's Chromium (the profile's browser download is not something a test
// should do): a page renders, its output lands in the private home, and the browser cannot reach
// a service on the host's loopback — `*:443`/`*:80` mean public hosts only.
describe('playwright with the system Chromium', () => {
  test('renders a page; loopback services stay out of reach', async (t) => {
    if (sandboxSkip) return t.skip(sandboxSkip);
    if (chromiumSkip) return t.skip(chromiumSkip);
    const loop = await hostLoopbackService();
    const s = { profile: 'playwright', pkg: '@playwright/mcp',
      args: ['--headless', '--browser', 'chromium', '--executable-path', CHROMIUM, '--isolated'] };
    const run = await start(s);
    try {
      await run.client.connect(run.transport, { timeout: 30000 });
      const nav = await run.client.callTool({ name: 'browser_navigate',
        arguments: { url: 'data:text/html,<h1>hello from the sandbox</h1>' } }, undefined, { timeout: 60000 });
      assert.ok(!nav.isError, text(nav).slice(0, 3000));
      const h1 = await run.client.callTool({ name: 'browser_evaluate',
        arguments: { function: "() => document.querySelector('h1').textContent" } });
      assert.match(text(h1), /hello from the sandbox/);
      assert.equal(run.audit().find((r) => r.event === 'session.start').profile, 'playwright');
      const out = path.join(run.h.stateDir, 'homes/@playwright__mcp/playwright-output');
      assert.ok(fs.existsSync(out) && fs.readdirSync(out).length > 0, `nothing in ${out}`);

      const port = loop.port;
      const local = await run.client.callTool({ name: 'browser_navigate',
        arguments: { url: `http://127.0.0.1:${port}/` } }, undefined, { timeout: 60000 });
      assert.doesNotMatch(text(local), /host loopback service/);
      assert.equal(loop.hits, 0, 'the browser reached a service on the host loopback');

      const rep = await waitProbe(run);
      assert.ok(rep, run.stderr());
      assert.doesNotMatch(rep.ssh, /^read/);
      assert.equal(rep.secret, false);
    } finally {
      await run.client.close().catch(() => {});
      loop.close();
    }
  });
});

// Puppeteer with the system's Chromium (its own Chrome download is skipped at install time:
// scripts/setup.sh sets PUPPETEER_SKIP_DOWNLOAD). The server reads its launch options from
// PUPPETEER_LAUNCH_OPTIONS, which the profile passes through; Chrome's own sandbox cannot nest
// inside mcpcell's, so `--no-sandbox` (and ALLOW_DANGEROUS, which the server demands for it).
// Fails if the profile stops passing PUPPETEER_LAUNCH_OPTIONS (the server then launches its own,
// absent Chrome) or the sandbox lets the browser reach the host's loopback.
describe('puppeteer with the system Chromium', () => {
  test('renders a page; loopback services stay out of reach', async (t) => {
    if (sandboxSkip) return t.skip(sandboxSkip);
    if (chromiumSkip) return t.skip(chromiumSkip);
    const loop = await hostLoopbackService();
    const pkg = '@modelcontextprotocol/server-puppeteer';
    const files = listing(pkg);
    const s = { profile: 'puppeteer', pkg, env: {
      PUPPETEER_LAUNCH_OPTIONS: JSON.stringify({ headless: true, executablePath: CHROMIUM, args: ['--no-sandbox'] }),
      ALLOW_DANGEROUS: 'true' } };
    const run = await start(s);
    try {
      await run.client.connect(run.transport, { timeout: 30000 });
      const { tools } = await run.client.listTools();
      assert.ok(tools.some((x) => x.name === 'puppeteer_evaluate'), 'no puppeteer_evaluate');
      const nav = await run.client.callTool({ name: 'puppeteer_navigate',
        arguments: { url: 'data:text/html,<h1>hello from the sandbox</h1>' } }, undefined, { timeout: 60000 });
      assert.ok(!nav.isError, text(nav).slice(0, 3000) + run.stderr().slice(-3000));
      const h1 = await run.client.callTool({ name: 'puppeteer_evaluate',
        arguments: { script: "document.querySelector('h1').textContent" } });
      assert.ok(!h1.isError, text(h1));
      assert.match(text(h1), /hello from the sandbox/);
      assert.equal(run.audit().find((r) => r.event === 'session.start').profile, 'puppeteer');

      const port = loop.port;
      // Puppeteer reports the refused connection as a JSON-RPC error (net::ERR_CONNECTION_REFUSED).
      const local = await run.client.callTool({ name: 'puppeteer_navigate',
        arguments: { url: `http://127.0.0.1:${port}/` } }, undefined, { timeout: 60000 })
        .then((r) => text(r), (e) => { assert.equal(typeof e.code, 'number', e.message); return e.message; });
      assert.doesNotMatch(local, /host loopback service/);
      assert.equal(loop.hits, 0, 'the browser reached a service on the host loopback');

      const rep = await waitProbe(run);
      assert.ok(rep, run.stderr());
      assert.doesNotMatch(rep.ssh, /^read/);
      assert.equal(rep.secret, false);
      for (const n of Object.keys(s.env)) assert.equal(rep.env[n], true, `${n} did not reach the server`);
      // The profile allows any public host on 443/80 (it is a browser), so the probe's host is not
      // a denied action here; the loopback service above is.
      assert.deepEqual(listing(pkg), files, 'the server wrote into its package directory');
    } finally {
      await run.client.close().catch(() => {});
      loop.close();
    }
  });
});

// Kubernetes against a stand-in API server on the host's 127.0.0.1 (no cluster here): the
// profile allows exactly K8S_SERVER's host:port (${host:env:K8S_SERVER}), and the server's
// kubectl_get runs the real /usr/bin/kubectl inside the sandbox, which lists the stand-in's pod.
// Fails if the profile stops passing K8S_SERVER/K8S_TOKEN (the server then has no cluster, or the
// probe misses the token) or drops its allow entry (kubectl never reaches the stand-in), or if the
// probe's host gets through.
describe('kubernetes against a stand-in API server', () => {
  const kubectl = spawnSync('/bin/sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();

  test('tools/list; kubectl_get lists the stand-in\'s pods; nothing else reachable', async (t) => {
    if (sandboxSkip) return t.skip(sandboxSkip);
    const { createServer } = await import('node:http');
    const seen = []; // what the stand-in was asked (kubectl sends no bearer token over plain http)
    const json = (res, o) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(o)); };
    const srv = createServer((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      const u = req.url.split('?')[0];
      if (u === '/api') return json(res, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
      if (u === '/apis') return json(res, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
      if (u === '/api/v1') return json(res, { kind: 'APIResourceList', groupVersion: 'v1', resources: [
        { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] }] });
      if (u === '/api/v1/namespaces/default/pods') return json(res, { kind: 'PodList', apiVersion: 'v1',
        metadata: { resourceVersion: '1' }, items: [{ kind: 'Pod', apiVersion: 'v1',
          metadata: { name: 'sandboxed-pod', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
          status: { phase: 'Running' } }] });
      res.statusCode = 404;
      json(res, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const port = srv.address().port;
    const pkg = 'mcp-server-kubernetes';
    const files = listing(pkg);
    const s = { profile: 'kubernetes', pkg, env: { K8S_SERVER: `http://127.0.0.1:${port}`, K8S_TOKEN: 'fake-k8s-token' } };
    const run = await start(s);
    try {
      await run.client.connect(run.transport, { timeout: 30000 }).catch((e) => {
        throw new Error(`${pkg} did not start: ${e.message}\n${run.stderr().slice(-3000)}`);
      });
      const { tools } = await run.client.listTools();
      assert.ok(tools.some((x) => x.name === 'kubectl_get'), 'no kubectl_get');
      assert.equal(run.audit().find((r) => r.event === 'session.start').profile, 'kubernetes');
      if (kubectl) {
        const r = await run.client.callTool({ name: 'kubectl_get',
          arguments: { resourceType: 'pods', namespace: 'default', output: 'json' } }, undefined, { timeout: 60000 });
        assert.match(text(r), /sandboxed-pod/, text(r).slice(0, 3000) + JSON.stringify(seen));
        assert.ok(seen.some((x) => x.url.startsWith('/api/v1/namespaces/default/pods')), JSON.stringify(seen));
        const allow = await waitRecord(run, (x) => x.event === 'net.allow' && x.port === port);
        assert.ok(allow, JSON.stringify(run.audit().filter((x) => x.event.startsWith('net.'))));
      } else {
        t.diagnostic('kubectl is not installed here: kubectl_get was not exercised (tools/list and the probe were)');
        console.log('# kubectl is not installed here: kubectl_get was not exercised');
      }
      const rep = await waitProbe(run);
      assert.ok(rep, run.stderr());
      assert.doesNotMatch(rep.ssh, /^read/);
      assert.equal(rep.secret, false);
      for (const n of Object.keys(s.env)) assert.equal(rep.env[n], true, `${n} did not reach the server`);
      assert.notEqual(rep.net, 'connected');
      assert.ok(await waitRecord(run, (r) => r.event === 'net.deny' && r.host === DENIED_HOST), 'no net.deny');
      assert.deepEqual(listing(pkg), files, 'the server wrote into its package directory');
    } finally {
      await run.client.close().catch(() => {});
      srv.close();
    }
  });
});
