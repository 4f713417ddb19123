// Where things are, and how a test runs a server through mcpcell.
//
// The whole suite runs with or without the sandbox from ONE switch: MCPCELL_TEST_SANDBOX=1 drops
// --no-sandbox and adds the --allow-* flags a server needs to see its own code. Until the sandbox
// lands the default is --no-sandbox.
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const SOURCE = process.env.MCPCELL_SOURCE ?? resolve(here, '../../..');
export const BUILD = process.env.MCPCELL_BUILD ?? join(SOURCE, 'build');
export const MCPCELL = process.env.MCPCELL ?? join(BUILD, 'mcpcell');
export const ECHO = join(BUILD, 'mcpcell-echo');
export const NODE = process.execPath;
export const NODE_MODULES = join(SOURCE, 'node_modules');
export const SANDBOX = process.env.MCPCELL_TEST_SANDBOX === '1';

// The real npm peers, as argv (absolute paths, so PATH does not matter).
const mcp = (pkg) => join(NODE_MODULES, '@modelcontextprotocol', pkg, 'dist', 'index.js');
export const peers = {
  everything: [NODE, mcp('server-everything')],
  filesystem: (...dirs) => [NODE, mcp('server-filesystem'), ...dirs],
  memory: [NODE, mcp('server-memory')],
};

// mcpcell's argv for `cmd`. `opts.allowRead`/`allowWrite`/`allowEnv` are what the server needs
// beyond its own code; they only matter (and are only passed) when sandboxed. `opts.extra` are
// mcpcell options passed in both modes (e.g. --max-line-bytes).
export function wrap(cmd, opts = {}) {
  const flags = [];
  if (SANDBOX) {
    for (const p of [SOURCE, NODE, ...(opts.allowRead ?? [])]) flags.push('--allow-read', p);
    for (const p of opts.allowWrite ?? []) flags.push('--allow-write', p);
    for (const e of opts.allowEnv ?? []) flags.push('--allow-env', e);
  } else {
    flags.push('--no-sandbox');
  }
  return [MCPCELL, ...flags, ...(opts.extra ?? []), '--', ...cmd];
}

// A private HOME with XDG dirs for one test; `env` is a full environment for child processes.
// Call cleanup() in an after() hook.
export function tempHome(prefix = 'mcpcell-test-') {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const home = join(root, 'home');
  const state = join(root, 'state');
  const config = join(root, 'config');
  for (const d of [home, state, config]) mkdirSync(d, { recursive: true });
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_STATE_HOME: state,
    XDG_CONFIG_HOME: config,
    LANG: 'C.UTF-8',
  };
  return {
    root, home, state, config, env,
    stateDir: join(state, 'mcpcell'),
    configDir: join(config, 'mcpcell'),
    auditPath: join(state, 'mcpcell', 'audit.jsonl'),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
