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
 * What the fields ask of the next requests: `blockMs`, all of `t` of a policy with nothing left (no
 * request before then), and `spacingMs`, `t / r` of the tightest other policy, the gap to leave before a
 * batch that only the flush interval made due — so the remaining quota lasts until units come back, and
 * while the tracker waits hits keep arriving: fewer, larger requests as the quota shrinks. Full batches
 * and flushes are not held back by the spacing. `t` counts at most a day.
 */
export function pacing(states: readonly RateLimitState[]): { blockMs: number; spacingMs: number } {
  let blockMs = 0;
  let spacingMs = 0;
  for (const s of states) {
    const windowMs = Math.min(s.resetSeconds, 86_400) * 1000;
    if (s.remaining <= 0) blockMs = Math.max(blockMs, windowMs);
    else spacingMs = Math.max(spacingMs, windowMs / s.remaining);
  }
  return { blockMs: Math.ceil(blockMs), spacingMs: Math.ceil(spacingMs) };
}

/**
 * The smallest `q` of the `ingest_hits-*` policies in a `RateLimit-Policy` field
 * (`"ingest-1m";q=500;w=60,"ingest_hits-1m";q=300;w=60`): a batch of more hits is refused whatever the timing.
 * `Infinity` when it names none.
 */
export function smallestHitsQuota(field: string): number {
  let smallest = Infinity;
  for (const item of splitList(field)) {
    const parts = item.split(';').map((p) => p.trim());
    const head = parts.shift() ?? '';
    const name = head.startsWith('"') ? head.slice(1, -1) : head;
    if (!name.startsWith('ingest_hits-')) continue;
    for (const p of parts) {
      const m = /^q=(\d+)$/.exec(p);
      if (m && Number(m[1]) >= 1) smallest = Math.min(smallest, Number(m[1]));
    }
  }
  return smallest;
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
