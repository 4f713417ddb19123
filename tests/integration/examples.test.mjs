// The editor snippets in examples/editors/ stay valid and keep pointing at real profiles: every
// file parses (JSON, JSON with full-line comments, or the YAML subset Continue's snippet uses),
// every mcpcell entry's command gets the shipped profile its name says (mcpcell profile show),
// and every profile named with --profile exists and passes `mcpcell profile check`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MCPCELL, SOURCE, tempHome } from './lib/env.mjs';

const DIR = path.join(SOURCE, 'examples/editors');
// Profiles the snippets name by a path of the user's own (shown as placeholders, not shipped).
const USER_PLACEHOLDERS = new Set(['my-server.json']);

const h = tempHome('mcpcell-examples-');
process.on('exit', () => h.cleanup());
const mcpcell = (args) => spawnSync(MCPCELL, args, { env: h.env, encoding: 'utf8', timeout: 60000 });

// JSON with comments as VS Code and Zed accept it: only whole-line // comments are used here.
const parseJsonc = (text) => JSON.parse(text.split('\n').filter((l) => !/^\s*\/\//.test(l)).join('\n'));

// Continue's snippet: a list of `- name: X` blocks whose `command:` and `args: [...]` are one line
// each (args as a JSON array). Enough to check it without a YAML library.
function parseContinue(text) {
  const out = {};
  let cur = null;
  for (const line of text.split('\n')) {
    let m;
    if ((m = /^\s*- name:\s*(\S+)\s*$/.exec(line))) out[(cur = m[1])] = {};
    else if (cur && (m = /^\s+command:\s*(\S+)\s*$/.exec(line))) out[cur].command = m[1];
    else if (cur && (m = /^\s+args:\s*(\[.*\])\s*$/.exec(line))) out[cur].args = JSON.parse(m[1]);
  }
  return out;
}

function entriesOf(file) {
  const text = fs.readFileSync(path.join(DIR, file), 'utf8');
  if (file.endsWith('.yaml')) return parseContinue(text);
  const j = parseJsonc(text);
  return j.mcpServers ?? j.servers ?? j.context_servers ?? null;
}

const files = fs.readdirSync(DIR).filter((f) => /\.(json|yaml)$/.test(f) && f !== 'fetch-docs-only.json');

test('the editor snippets exist for Claude Desktop, Claude Code, Cursor and VS Code', () => {
  for (const f of ['claude_desktop_config.json', 'claude-code.mcp.json', 'cursor.mcp.json', 'vscode.mcp.json'])
    assert.ok(files.includes(f), f);
});

for (const file of files) {
  test(`${file}: every mcpcell entry names or matches a profile that exists`, () => {
    const entries = entriesOf(file);
    assert.ok(entries && Object.keys(entries).length > 0, `${file}: no server entries`);
    for (const [name, e] of Object.entries(entries)) {
      assert.equal(e.command, 'mcpcell', `${file}: ${name} does not run through mcpcell`);
      const dd = e.args.indexOf('--');
      assert.ok(dd >= 0 && dd < e.args.length - 1, `${file}: ${name}: no command after --`);
      const flags = e.args.slice(0, dd);
      const cmd = e.args.slice(dd + 1);
      const p = flags.indexOf('--profile');
      if (p >= 0) {
        const named = flags[p + 1];
        if (!named.includes('/')) {
          const r = mcpcell(['profile', 'show', named, '--', ...cmd]);
          assert.equal(r.status, 0, `${file}: ${name}: ${r.stderr}`);
          continue;
        }
        const base = path.basename(named);
        if (USER_PLACEHOLDERS.has(base)) continue;
        const local = path.join(DIR, base);
        assert.ok(fs.existsSync(local), `${file}: ${name}: ${named} is not in examples/editors`);
        const r = mcpcell(['profile', 'check', local]);
        assert.equal(r.status, 0, `${file}: ${name}: ${r.stderr}`);
        continue;
      }
      // No --profile: matching must pick the shipped profile the entry is named after.
      const r = mcpcell(['profile', 'show', '--json', '--', ...cmd]);
      assert.equal(r.status, 0, `${file}: ${name}: ${r.stderr}`);
      const shown = JSON.parse(r.stdout);
      assert.equal(shown.profile, name, `${file}: ${name} gets profile ${shown.profile} (${shown.chosen_by})`);
      const s = mcpcell(['profile', 'show', name]);
      assert.equal(s.status, 0, `${file}: ${name}: ${s.stderr}`);
    }
  });
}
