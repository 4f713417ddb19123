// Reads mcpcell's audit trail as records.
import { existsSync, readFileSync } from 'node:fs';

// A running mcpcell may be in the middle of a write(2): a reader in another process can see part of
// it, so only lines that end in a newline are records yet.
export function readAudit(path) {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}

// Records of one event name (or prefix ending in '.').
export function events(records, name) {
  return records.filter((r) => (name.endsWith('.') ? r.event.startsWith(name) : r.event === name));
}

// RFC 3339, UTC, microseconds (SPEC "Audit records").
export const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
