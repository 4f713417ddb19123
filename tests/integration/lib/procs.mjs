// Finding a server's processes from outside, so lifecycle tests can prove they are all gone.
// Each test marks its server with a unique environment variable and scans /proc for it: that finds
// grandchildren and re-parented orphans too, and works across pid namespaces.
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export function newMark() { return `MCPCELL_TEST_MARK=${randomBytes(8).toString('hex')}`; }

// Pids of live (non-zombie) processes whose environment holds `mark` ("NAME=value").
export function pidsWithMark(mark) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const env = readFileSync(`/proc/${d}/environ`);
      if (!env.includes(mark)) continue;
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z') out.push(Number(d));
    } catch {}  // gone meanwhile, or not ours to read
  }
  return out;
}

// Polls until no process carries `mark`; resolves the elapsed ms, or rejects with the survivors.
export async function waitGone(mark, timeoutMs) {
  const t0 = Date.now();
  for (;;) {
    const left = pidsWithMark(mark);
    if (left.length === 0) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) {
      const desc = left.map((p) => { try { return `${p}: ${readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ')}`; } catch { return String(p); } });
      throw new Error(`processes still alive after ${timeoutMs} ms:\n${desc.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
