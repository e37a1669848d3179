/**
 * The IETF draft fields the service sends on every limited answer (draft-ietf-httpapi-ratelimit-headers,
 * structured-field lists), e.g. `RateLimit: "ingest-1m";r=497;t=58,"ingest-1h";r=997;t=3598`:
 * `r` units left in the policy's window, `t` seconds until counted units start to leave it.
 */
export interface RateLimitState {
  name: string;
  remaining: number;
  resetSeconds: number;
}

export function parseRateLimit(field: string | null | undefined): RateLimitState[] {
  if (!field) return [];
  const states: RateLimitState[] = [];
  for (const item of splitList(field)) {
    const parts = item.split(';').map((p) => p.trim());
    const head = parts.shift() ?? '';
    const name = head.startsWith('"') ? head.slice(1, -1).replace(/\\(.)/g, '$1') : head;
    let remaining: number | undefined;
    let reset: number | undefined;
    for (const p of parts) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const key = p.slice(0, eq).trim();
      const value = Number(p.slice(eq + 1).trim());
      if (!Number.isFinite(value) || value < 0) continue;
      if (key === 'r') remaining = value;
      else if (key === 't') reset = value;
    }
    if (remaining !== undefined && reset !== undefined) states.push({ name, remaining, resetSeconds: reset });
  }
  return states;
}

/**
 * How long to leave between requests so that the remaining quota lasts until units come back: `t / r`
 * of the tightest policy (all of `t` when nothing is left). While the tracker waits, hits keep arriving,
 * so the next batches grow: fewer, larger requests as the quota shrinks.
 */
export function pacingDelayMs(states: readonly RateLimitState[]): number {
  let delay = 0;
  for (const s of states) {
    const spacing = s.remaining <= 0 ? s.resetSeconds * 1000 : (s.resetSeconds * 1000) / s.remaining;
    if (spacing > delay) delay = spacing;
  }
  return Math.ceil(delay);
}

/** `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in milliseconds from `nowMs`. */
export function parseRetryAfter(field: string | null | undefined, nowMs: number): number | undefined {
  if (!field) return undefined;
  const trimmed = field.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

function splitList(field: string): string[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    if (c === '\\' && quoted && i + 1 < field.length) {
      current += c + field[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      if (current.trim()) items.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  if (current.trim()) items.push(current.trim());
  return items;
}
