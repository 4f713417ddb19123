// Drives the Inspector CLI (v1, @modelcontextprotocol/inspector-cli), a real third-party client.
// Quirk (reference/protocol.md B2): it must run from a directory whose PARENT has a package.json,
// so it runs from <source>/tests. It prints the bare `result` object as JSON on stdout.
import { join } from 'node:path';
import { NODE, NODE_MODULES, SOURCE } from './env.mjs';
import { run } from './linejson.mjs';

const CLI = join(NODE_MODULES, '@modelcontextprotocol', 'inspector-cli', 'build', 'cli.js');

// argv: the server command ([cmd, ...args]); method: e.g. 'tools/list'; args: extra CLI args such
// as ['--tool-name', 'echo', '--tool-arg', 'message=hi']. Resolves the parsed result.
export async function inspect(argv, method, args = [], { env, timeoutMs = 60000 } = {}) {
  const r = await run([NODE, CLI, '--cli', ...argv, '--method', method, ...args],
    { env, cwd: join(SOURCE, 'tests'), timeoutMs });
  if (r.code !== 0) throw new Error(`inspector-cli exited ${r.code}: ${r.stderr.slice(-3000)}`);
  try { return JSON.parse(r.stdout); } catch {
    throw new Error(`inspector-cli printed no JSON: ${r.stdout.slice(0, 2000)}\n${r.stderr.slice(-2000)}`);
  }
}
