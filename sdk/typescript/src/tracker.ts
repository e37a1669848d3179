import { randomUUID } from 'node:crypto';
import { fullJitterDelay } from './backoff.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { namedHits, parseProblem, type FieldError, type Problem } from './problem.js';
import { pacing, parseRateLimit, parseRetryAfter, smallestHitsQuota } from './rate-limit.js';

/** The service's limits for one `POST /api/logs` (DESIGN.md §2). */
export const MAX_BATCH_SIZE = 500;
export const MAX_BATCH_BYTES = 256 * 1024;
const MAX_ENDPOINT_LENGTH = 2048;
const MAX_IP_LENGTH = 100;
const ENVELOPE_BYTES = '{"hits":[]}'.length;
const VERSION = '1.0.0';
/** The range of a JavaScript Date (ECMA-262 §21.4.1.1): a time outside it has no ISO form to send. */
const MAX_TIME_MS = 8.64e15;
/** The longest wait the service can ask for that the tracker honours in one go; it asks again after. */
const MAX_WAIT_MS = 3_600_000;
/** How long the service keeps an Idempotency-Key: a batch is never sent again under a key older than this. */
export const IDEMPOTENCY_KEY_LIFE_MS = 24 * 3_600_000;
/** A minute's margin on the key's life, for the two clocks' drift. */
const KEY_LIFE_MARGIN_MS = 60_000;
const MAX_METHOD_LENGTH = 16;
const MAX_DURATION_MS = 3_600_000;
/** An HTTP method token (RFC 9110 §9.1: tchar) of 1 to 16 characters, as the service accepts it. */
const METHOD_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,16}$/;

export interface HitInput {
  /** The caller's address, IPv4 or IPv6. */
  ip: string;
  /** The path or route template served, e.g. `/api/users/:id`. */
  endpoint: string;
  /** When the hit happened; default: the moment of `record`. */
  timestamp?: Date | number | string;
  /** The HTTP method, e.g. `GET` (a token of 1..16 characters). */
  method?: string | undefined;
  /** The status the request was answered with, 100..599. */
  status?: number | undefined;
  /** How long the answer took, in milliseconds (0..3,600,000). */
  durationMs?: number | undefined;
}

export interface UsageTrackerStats {
  /** Every call of `record`. */
  recorded: number;
  /** Hits the service answered `202` for: counted exactly once. */
  acknowledged: number;
  /** Hits let go without being sent: the buffer was full, the tracker was closed, or close timed out. */
  dropped: number;
  /** Hits the service refused (`400` naming them, or another final `4xx`) or `record` found malformed. */
  rejected: number;
  /** Requests sent again after a `429`, `5xx`, timeout or network error (same Idempotency-Key). */
  retried: number;
  /** Hits buffered or in a batch not yet answered. */
  pending: number;
}

/** What went wrong, reported to `onError`; the tracker itself never throws on the caller's path. */
export type UsageTrackerEvent =
  | { kind: 'halted'; status: number; problem?: Problem; message: string }
  | { kind: 'resumed'; message: string }
  | { kind: 'rejected'; status: number; hits: number; errors: FieldError[]; problem?: Problem; message: string }
  | { kind: 'invalid-hit'; hits: number; message: string }
  | { kind: 'invalid-field'; field: 'method' | 'status' | 'duration_ms'; hits: number; message: string }
  | { kind: 'record-failed'; hits: number; error: unknown; message: string }
  | { kind: 'expired'; hits: number; message: string }
  | { kind: 'fields-unsupported'; status: number; hits: number; message: string }
  | { kind: 'retrying'; status?: number; error?: unknown; attempt: number; delayMs: number; message: string }
  | { kind: 'rate-limited'; status: number; delayMs: number; problem?: Problem; message: string }
  | { kind: 'buffer-full'; maxBufferedHits: number; message: string }
  | { kind: 'abandoned'; hits: number; message: string };

/** The part of `fetch` the tracker uses (Node ≥ 18's global `fetch` fits). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal; redirect: 'manual' },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

export interface UsageTrackerOptions {
  /** The service, e.g. `https://usage.example.com` (a stage path such as `/prod` is kept). */
  baseUrl: string;
  /** The client's API key, sent as `X-API-Key`. */
  apiKey: string;
  /** A batch that is not full is sent this long after its first hit. Default 1000. */
  flushIntervalMs?: number;
  /** Hits per request, 1..500. Default 500. */
  maxBatchSize?: number;
  /** Bytes per request body, at most 256 KiB. Default 256 KiB. */
  maxBatchBytes?: number;
  /** Hits held (buffered or being sent) before `record` drops new ones. Default 10,000. */
  maxBufferedHits?: number;
  /** One attempt's limit; a timed-out attempt is retried under the same Idempotency-Key. Default 10,000. */
  requestTimeoutMs?: number;
  /** How long `close` may take to send what is left. Default 10,000. */
  closeTimeoutMs?: number;
  /** First backoff ceiling after a `5xx` or network error. Default 500. */
  backoffBaseMs?: number;
  /** Largest backoff. Default 30,000. */
  backoffCapMs?: number;
  /**
   * After a 401/403 (or 404/405) the held batch is tried again this often, so a client an admin enables
   * again, or an allowlist fixed, resumes by itself. Default 60,000 (as the Java SDK's `authRetryInterval`).
   */
  authRetryIntervalMs?: number;
  /** Told about every failure: `halted` (401/403/404/405), `rejected`, `retrying`, `rate-limited`, ... */
  onError?: (event: UsageTrackerEvent) => void;
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Default: the system clock. Tests pass a virtual one. */
  clock?: Clock;
}

interface BufferedHit {
  seq: number;
  ip: string;
  endpoint: string;
  at: number;
  method: string | undefined;
  status: number | undefined;
  durationMs: number | undefined;
}

/** One request's worth of hits: its body and Idempotency-Key are fixed when it is formed, for every retry. */
interface Batch {
  readonly key: string;
  readonly parts: string[];
  readonly seqs: number[];
  readonly body: string;
  sends: number;
  /** When an attempt first got past authentication, i.e. the service may have claimed the key (0: never). */
  keyedAt: number;
  /** An attempt ended without an answer that says what happened (network error, timeout, 5xx): it may have landed. */
  mayHaveLanded: boolean;
}

interface FlushWaiter {
  upTo: number;
  resolve: () => void;
}

/**
 * Reports the hits a service serves to usage-tracker (`POST /api/logs`) in batches, off the caller's path.
 * `record` only appends to a bounded buffer; one request at a time sends batches of up to 500 hits /
 * 256 KiB when a batch is full or `flushIntervalMs` after its first hit, retries with the batch's own
 * Idempotency-Key so that a retried batch is counted once, and follows `Retry-After` and `RateLimit`.
 * Timers are unref'd: an idle tracker never keeps the process alive (call `close` before exiting).
 */
export class UsageTracker {
  readonly #url: string;
  #apiKey: string;
  readonly #flushIntervalMs: number;
  readonly #maxBatchSize: number;
  readonly #maxBatchBytes: number;
  readonly #maxBufferedHits: number;
  readonly #requestTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #backoffBaseMs: number;
  readonly #backoffCapMs: number;
  readonly #authRetryIntervalMs: number;
  readonly #onError: ((event: UsageTrackerEvent) => void) | undefined;
  readonly #fetch: FetchLike;
  readonly #clock: Clock;

  #buffer: BufferedHit[] = [];
  #head = 0;
  /** Batches to send before new ones: retries, the rest of a batch after a 400, a batch held by a 401/403. */
  readonly #ready: Batch[] = [];
  #inBatches = 0;
  #seq = 0;

  #recorded = 0;
  #acknowledged = 0;
  #dropped = 0;
  #rejected = 0;
  #retried = 0;

  #flushTimer: TimerHandle | undefined;
  /** Buffered hits with a sequence number up to this are sent now, full batch or not. */
  #dueUpTo = 0;
  /** ... of which these were asked for by flush() or close(): they are not held back by pacing. */
  #flushedUpTo = 0;
  /** No request before this (Retry-After, backoff, a policy with nothing left). */
  #notBefore = 0;
  /** No batch the flush interval alone made due before this (the RateLimit pacing); full or flushed ones go. */
  #paceUntil = 0;
  #failures = 0;
  /** Hits per batch now: maxBatchSize, or less while the service names a smaller `ingest_hits` policy. */
  #batchLimit: number;
  /** Field drops not yet reported, and whether a report is on its way (one per turn, not one per hit). */
  readonly #fieldDrops = { method: 0, status: 0, duration_ms: 0 };
  #fieldReportScheduled = false;
  /** The service refused method/status/duration_ms as unknown (a version before contract v1.2): left out from then on. */
  #plainHits = false;
  #halted = false;
  /** Set from the first 401/403/404/405 until a request goes through: one `halted` event per episode. */
  #haltedEpisode = false;
  #probeTimer: TimerHandle | undefined;
  #dropping = false;
  #pumping = false;
  #pumpScheduled = false;
  #closing: Promise<void> | undefined;
  #stopped = false;
  /** The pump's current wait; `paced` when only the pacing holds it (a full batch or a flush ends it). */
  #sleep: { handle: TimerHandle; wake: () => void; paced: boolean } | undefined;
  #inFlight: AbortController | undefined;
  #current: Batch | undefined;
  readonly #waiters: FlushWaiter[] = [];

  constructor(options: UsageTrackerOptions) {
    if (!options || typeof options.baseUrl !== 'string' || !/^https?:\/\//i.test(options.baseUrl)) {
      throw new TypeError('UsageTracker: baseUrl must be an http(s) URL');
    }
    if (typeof options.apiKey !== 'string' || options.apiKey.length === 0) {
      throw new TypeError('UsageTracker: apiKey is required');
    }
    this.#url = new URL(options.baseUrl).href.replace(/\/+$/, '') + '/api/logs';
    this.#apiKey = options.apiKey;
    this.#flushIntervalMs = positive('flushIntervalMs', options.flushIntervalMs, 1000);
    this.#maxBatchSize = Math.min(positive('maxBatchSize', options.maxBatchSize, MAX_BATCH_SIZE), MAX_BATCH_SIZE);
    this.#batchLimit = this.#maxBatchSize;
    this.#maxBatchBytes = Math.min(positive('maxBatchBytes', options.maxBatchBytes, MAX_BATCH_BYTES), MAX_BATCH_BYTES);
    if (this.#maxBatchBytes < 16 * 1024) throw new RangeError('UsageTracker: maxBatchBytes must be at least 16 KiB');
    this.#maxBufferedHits = positive('maxBufferedHits', options.maxBufferedHits, 10_000);
    this.#requestTimeoutMs = positive('requestTimeoutMs', options.requestTimeoutMs, 10_000);
    this.#closeTimeoutMs = positive('closeTimeoutMs', options.closeTimeoutMs, 10_000);
    this.#backoffBaseMs = positive('backoffBaseMs', options.backoffBaseMs, 500);
    this.#backoffCapMs = positive('backoffCapMs', options.backoffCapMs, 30_000);
    this.#authRetryIntervalMs = positive('authRetryIntervalMs', options.authRetryIntervalMs, 60_000);
    this.#onError = options.onError;
    const f = options.fetch ?? (globalThis.fetch as unknown as FetchLike | undefined);
    if (typeof f !== 'function') throw new TypeError('UsageTracker: no fetch (Node >= 18, or pass options.fetch)');
    this.#fetch = f;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Buffers one hit; never blocks, never throws. `false` when the hit was not taken: the buffer is full,
   * the tracker is closed (both counted as `dropped`) or the hit is malformed (counted as `rejected`).
   */
  record(hit: HitInput): boolean {
    this.#recorded++;
    let at: number;
    try {
      at = hit?.timestamp === undefined ? this.#clock.now() : timeOf(hit.timestamp);
    } catch (error) {
      if (hit?.timestamp !== undefined) {
        this.#rejected++;
        return false;
      }
      // the clock failed, not the hit: given up and counted as dropped, so the books still add up
      this.#dropped++;
      this.#reportLater({ kind: 'record-failed', hits: 1, error, message: `record: the clock failed (${describe(error)}): hit dropped` });
      return false;
    }
    try {
      const ip = hit?.ip;
      const endpoint = hit?.endpoint;
      if (typeof ip !== 'string' || ip.length === 0 || ip.length > MAX_IP_LENGTH || typeof endpoint !== 'string'
          || endpoint.length === 0 || endpoint.length > MAX_ENDPOINT_LENGTH || !(Math.abs(at) <= MAX_TIME_MS)) {
        this.#rejected++;
        this.#reportLater({ kind: 'invalid-hit', hits: 1, message: 'record: ip and endpoint (1..2048 chars) must be strings and timestamp a valid time' });
        return false;
      }
      if (this.#closing !== undefined) {
        this.#dropped++;
        return false;
      }
      if (this.#pending() >= this.#maxBufferedHits) {
        this.#dropped++;
        if (!this.#dropping) {
          this.#dropping = true;
          this.#reportLater({ kind: 'buffer-full', maxBufferedHits: this.#maxBufferedHits,
            message: `buffer full (${this.#maxBufferedHits} hits): new hits are dropped until it drains` });
        }
        return false;
      }
      this.#dropping = false;
      let method = hit.method;
      if (method !== undefined && (typeof method !== 'string' || !METHOD_TOKEN.test(method))) {
        this.#fieldDropped('method');
        method = undefined;
      }
      let status = hit.status;
      if (status !== undefined && (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)) {
        this.#fieldDropped('status');
        status = undefined;
      }
      let durationMs = hit.durationMs;
      if (durationMs !== undefined && (typeof durationMs !== 'number' || !(durationMs >= 0 && durationMs <= MAX_DURATION_MS))) {
        this.#fieldDropped('duration_ms');
        durationMs = undefined;
      }
      const buffered = this.#buffer.length - this.#head;
      this.#buffer.push({ seq: ++this.#seq, ip, endpoint, at, method, status, durationMs });
      if (buffered === 0) this.#armFlushTimer();
      if (buffered + 1 >= this.#batchLimit) {
        this.#wakeIfPaced();
        this.#schedulePump();
      }
      return true;
    } catch {
      // A hostile getter or a broken Date: the caller's request must not fail because of metering.
      this.#rejected++;
      return false;
    }
  }

  /** A method, status or duration the service would refuse: left out of the hit, reported on a later turn. */
  #fieldDropped(field: 'method' | 'status' | 'duration_ms'): void {
    this.#fieldDrops[field]++;
    if (this.#fieldReportScheduled || !this.#onError) return;
    this.#fieldReportScheduled = true;
    setImmediate(() => {
      this.#fieldReportScheduled = false;
      for (const field of ['method', 'status', 'duration_ms'] as const) {
        const hits = this.#fieldDrops[field];
        if (hits === 0) continue;
        this.#fieldDrops[field] = 0;
        this.#report({ kind: 'invalid-field', field, hits,
          message: `record: ${field} left out of ${hits} hit(s): ${FIELD_RULES[field]} (the hits were kept)` });
      }
    });
  }

  /**
   * Sends everything recorded so far, full batches or not; resolves once those hits are acknowledged,
   * rejected or dropped — or at once while the tracker is halted by a 401/403/404/405 (they stay pending).
   */
  flush(): Promise<void> {
    return this.#flushUpTo(this.#seq);
  }

  /**
   * Stops taking hits, sends what is left and resolves, within `closeTimeoutMs`; what could not be sent
   * by then is counted as dropped (an abandoned request may still have landed). Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      let timer: TimerHandle | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = this.#clock.setTimeout(() => resolve(true), this.#closeTimeoutMs);
      });
      const flushed = this.#flushUpTo(this.#seq).then(() => false);
      if (!this.#halted) await Promise.race([flushed, timedOut]);
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      this.#stop();
    })();
    return this.#closing;
  }

  /** Counters: `recorded == acknowledged + pending + dropped + rejected` at every moment. */
  stats(): UsageTrackerStats {
    return {
      recorded: this.#recorded,
      acknowledged: this.#acknowledged,
      dropped: this.#dropped,
      rejected: this.#rejected,
      retried: this.#retried,
      pending: this.#pending(),
    };
  }

  /**
   * True after a 401/403 (or a 404/405: a wrong base URL) until {@link setApiKey}: nothing is sent, hits are
   * buffered until the buffer is full.
   */
  get halted(): boolean {
    return this.#halted;
  }

  /** Replaces the API key (after a rotation, or to recover from a 401/403) and resumes sending. */
  setApiKey(apiKey: string): void {
    if (typeof apiKey !== 'string' || apiKey.length === 0) throw new TypeError('UsageTracker: apiKey is required');
    this.#apiKey = apiKey;
    if (this.#halted) {
      this.#clearProbe();
      this.#halted = false;
      this.#schedulePump();
    }
  }

  // --- sending --------------------------------------------------------------------------------------

  #pending(): number {
    return this.#buffer.length - this.#head + this.#inBatches;
  }

  #flushUpTo(upTo: number): Promise<void> {
    if (this.#stopped || this.#halted || this.#oldestPendingSeq() > upTo) return Promise.resolve();
    if (upTo > this.#dueUpTo) this.#dueUpTo = upTo;
    if (upTo > this.#flushedUpTo) this.#flushedUpTo = upTo;
    const done = new Promise<void>((resolve) => this.#waiters.push({ upTo, resolve }));
    // someone waits for the sends now: let the current sleep hold the process open, or end it if it is
    // only pacing (a flush is not held back by it)
    this.#sleep?.handle.ref?.();
    this.#wakeIfPaced();
    this.#schedulePump();
    return done;
  }

  #armFlushTimer(): void {
    if (this.#flushTimer !== undefined || this.#stopped) return;
    const handle = this.#clock.setTimeout(() => {
      this.#flushTimer = undefined;
      if (this.#seq > this.#dueUpTo) this.#dueUpTo = this.#seq;
      this.#schedulePump();
    }, this.#flushIntervalMs);
    handle.unref?.();
    this.#flushTimer = handle;
  }

  #schedulePump(): void {
    if (this.#pumpScheduled || this.#pumping || this.#stopped) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        if (this.#halted || this.#stopped) break;
        if (this.#ready.length === 0 && !this.#batchDue()) break;
        // wait before forming the batch: hits that arrive meanwhile travel in it. Pacing holds back only
        // what the flush interval alone made due: full batches, retries and flushes go at once (as in Java)
        const paced = this.#ready.length === 0 && !this.#fullOrFlushed();
        const wait = Math.max(this.#notBefore, paced ? this.#paceUntil : 0) - this.#clock.now();
        if (wait > 0) {
          await this.#pause(wait, paced && this.#paceUntil > this.#notBefore);
          continue;
        }
        const batch = this.#ready.shift() ?? this.#formBatch();
        if (!batch) break;
        if (batch.keyedAt !== 0 && this.#clock.now() - batch.keyedAt >= this.#keyLifeMs()) {
          this.#giveUpExpired(batch);
          this.#settleWaiters();
          continue;
        }
        if (batch.sends === 0 && batch.parts.length > this.#batchLimit) {
          // formed before the service named a smaller ingest_hits policy: never sent, so cut it
          this.#ready.unshift(...split(batch, this.#batchLimit));
          continue;
        }
        this.#current = batch;
        try {
          await this.#send(batch);
        } finally {
          this.#current = undefined;
        }
        this.#settleWaiters();
      }
    } catch (e) {
      // not reachable by design; never let the pump die silently
      this.#report({ kind: 'retrying', error: e, attempt: 0, delayMs: 0, message: `internal error: ${String(e)}` });
    } finally {
      this.#pumping = false;
    }
    this.#settleWaiters();
    if (this.#buffer.length - this.#head > 0 && !this.#halted) {
      this.#armFlushTimer();
      if (this.#buffer.length - this.#head >= this.#batchLimit) this.#schedulePump();
    }
  }

  #fullOrFlushed(): boolean {
    const buffered = this.#buffer.length - this.#head;
    return buffered >= this.#batchLimit || (buffered > 0 && this.#buffer[this.#head]!.seq <= this.#flushedUpTo);
  }

  #batchDue(): boolean {
    const buffered = this.#buffer.length - this.#head;
    return buffered >= this.#batchLimit || (buffered > 0 && this.#buffer[this.#head]!.seq <= this.#dueUpTo);
  }

  /** The next batch from the buffer: a full one, or whatever is due (flush interval passed, flush, close). */
  #formBatch(): Batch | undefined {
    const buffered = this.#buffer.length - this.#head;
    if (buffered === 0) return undefined;
    const first = this.#buffer[this.#head]!;
    if (buffered < this.#batchLimit && first.seq > this.#dueUpTo) return undefined;
    const parts: string[] = [];
    const seqs: number[] = [];
    let bytes = ENVELOPE_BYTES;
    while (this.#head < this.#buffer.length && parts.length < this.#batchLimit) {
      const hit = this.#buffer[this.#head]!;
      const part = hitJson(hit, this.#plainHits);
      const size = Buffer.byteLength(part) + (parts.length > 0 ? 1 : 0);
      if (bytes + size > this.#maxBatchBytes && parts.length > 0) break;
      bytes += size;
      parts.push(part);
      seqs.push(hit.seq);
      this.#head++;
    }
    if (this.#head > 4096 && this.#head * 2 > this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
    this.#inBatches += parts.length;
    return newBatch(parts, seqs);
  }

  async #send(batch: Batch): Promise<void> {
    if (batch.sends > 0) this.#retried++;
    batch.sends++;
    const sentAt = this.#clock.now();
    const controller = new AbortController();
    this.#inFlight = controller;
    const timeout = this.#clock.setTimeout(() => controller.abort(), this.#requestTimeoutMs);
    timeout.unref?.();
    let status: number;
    let headers: { get(name: string): string | null };
    let body: string;
    try {
      const response = await this.#fetch(this.#url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': this.#apiKey,
          'idempotency-key': batch.key,
          'user-agent': `usage-tracker-client-node/${VERSION}`,
        },
        body: batch.body,
        signal: controller.signal,
        redirect: 'manual',
      });
      status = response.status;
      headers = response.headers;
      body = await response.text();
    } catch (error) {
      if (this.#stopped) return;
      batch.mayHaveLanded = true;
      if (batch.keyedAt === 0) batch.keyedAt = sentAt;
      this.#retryLater(batch, undefined, error);
      return;
    } finally {
      this.#clock.clearTimeout(timeout);
      this.#inFlight = undefined;
    }
    if (this.#stopped) return;

    const now = this.#clock.now();
    // the key's life on the service starts at the first attempt that got past authentication (401/403/404/405
    // come before it); counting from our send, before the service's claim, errs on the safe side
    if (batch.keyedAt === 0 && status !== 401 && status !== 403 && status !== 404 && status !== 405) batch.keyedAt = sentAt;
    const policies = headers.get('ratelimit-policy');
    if (policies !== null) this.#batchLimit = Math.min(this.#maxBatchSize, smallestHitsQuota(policies));
    const pace = pacing(parseRateLimit(headers.get('ratelimit')));
    if (pace.blockMs > 0) this.#notBefore = Math.max(this.#notBefore, now + Math.min(pace.blockMs, MAX_WAIT_MS));
    this.#paceUntil = now + Math.min(pace.spacingMs, MAX_WAIT_MS);

    if (status >= 200 && status < 300) {
      this.#failures = 0;
      this.#settle(batch.parts.length);
      this.#acknowledged += batch.parts.length;
      if (this.#haltedEpisode) {
        this.#haltedEpisode = false;
        this.#report({ kind: 'resumed', message: `${status}: sending resumed` });
      }
      return;
    }
    const problem = parseProblem(body);
    if (status === 429) {
      // a monthly quota's Retry-After may name the 1st of next month: ask again within the hour
      const delay = Math.min(MAX_WAIT_MS, parseRetryAfter(headers.get('retry-after'), now)
        ?? fullJitterDelay(++this.#failures, this.#backoffBaseMs, this.#backoffCapMs, this.#clock.random));
      this.#notBefore = Math.max(this.#notBefore, now + delay);
      this.#ready.unshift(batch);
      this.#report({ kind: 'rate-limited', status, delayMs: delay, ...(problem ? { problem } : {}),
        message: `429 ${problem?.title ?? 'Too Many Requests'}: retrying in ${delay} ms` });
      return;
    }
    if (status >= 500 || status === 408 || status === 425) {
      batch.mayHaveLanded = true;
      this.#retryLater(batch, status, undefined, problem);
      return;
    }
    // 404/405: a wrong base URL. Like a bad key it is fixed by configuration, and no hit is to blame: keep them
    if (status === 401 || status === 403 || status === 404 || status === 405) {
      this.#halted = true;
      this.#ready.unshift(batch);
      this.#armProbe();
      if (!this.#haltedEpisode) {
        this.#haltedEpisode = true;
        this.#report({ kind: 'halted', status, ...(problem ? { problem } : {}),
          message: `${status} ${problem?.detail ?? problem?.title ?? ''}`.trim()
            + `: sending stopped (hits are buffered until the buffer is full); tried again every ${this.#authRetryIntervalMs} ms, setApiKey() resumes at once` });
      }
      return;
    }
    if (status === 400 && batch.mayHaveLanded) {
      // an earlier attempt may have been counted: re-sending any of it under a new key could count it twice
      this.#settle(batch.parts.length);
      this.#rejected += batch.parts.length;
      this.#report({ kind: 'rejected', status, hits: batch.parts.length, errors: problem?.errors ?? [], ...(problem ? { problem } : {}),
        message: `${status} ${problem?.title ?? ''}: ${batch.parts.length} hit(s) rejected; an earlier attempt of this batch may have been`
          + ` counted, so it is not sent again under a new key${problem?.detail ? ` (${problem.detail})` : ''}` });
      return;
    }
    if (status === 400 && batch.parts.length > this.#batchLimit && (problem?.errors ?? []).length === 0) {
      // larger than the ingest_hits policy the answer names: refused before any work, so cut and sent again
      this.#ready.unshift(...split(batch, this.#batchLimit));
      return;
    }
    if (status === 413 && batch.parts.length > 1 && !batch.mayHaveLanded) {
      // cannot happen within our byte bound; if a proxy in between has a lower one, halve and go on
      const half = Math.ceil(batch.parts.length / 2);
      this.#ready.unshift(...split(batch, half));
      return;
    }
    const fieldErrors = problem?.errors ?? [];
    if (status === 400 && !this.#plainHits && fieldErrors.length > 0 && fieldErrors.every((e) => NEW_FIELD.test(e.field))) {
      // a service before contract v1.2 does not know the fields (and would name one hit at a time): nothing
      // landed, so the same hits go again without them, under a new key
      this.#plainHits = true;
      this.#ready.unshift(newBatch(batch.parts.map(withoutOutcome), batch.seqs));
      this.#report({ kind: 'fields-unsupported', status, hits: batch.parts.length,
        message: `${status}: the service does not take method, status and duration_ms (a version before contract v1.2): hits are sent without them` });
      return;
    }
    const named = status === 400 ? namedHits(problem, batch.parts.length) : new Set<number>();
    if (named.size > 0 && named.size < batch.parts.length) {
      // the service reports every broken hit: the others are valid and go again, as a new request
      const parts: string[] = [];
      const seqs: number[] = [];
      batch.parts.forEach((p, i) => {
        if (!named.has(i)) {
          parts.push(p);
          seqs.push(batch.seqs[i]!);
        }
      });
      this.#settle(named.size);
      this.#rejected += named.size;
      this.#ready.unshift(newBatch(parts, seqs));
    } else {
      this.#settle(batch.parts.length);
      this.#rejected += batch.parts.length;
    }
    const count = named.size > 0 ? named.size : batch.parts.length;
    this.#report({ kind: 'rejected', status, hits: count, errors: problem?.errors ?? [], ...(problem ? { problem } : {}),
      message: `${status} ${problem?.title ?? ''}: ${count} hit(s) rejected${problem?.detail ? ` (${problem.detail})` : ''}` });
  }

  /** The service forgets a key a day after it first saw it; less the request's time on the way and a margin. */
  #keyLifeMs(): number {
    return IDEMPOTENCY_KEY_LIFE_MS - this.#requestTimeoutMs - KEY_LIFE_MARGIN_MS;
  }

  /** A batch held longer than its key lives on the service: dropped and reported, never sent again. */
  #giveUpExpired(batch: Batch): void {
    this.#settle(batch.parts.length);
    this.#dropped += batch.parts.length;
    this.#failures = 0;
    this.#report({ kind: 'expired', hits: batch.parts.length,
      message: `${batch.parts.length} hit(s) dropped: held longer than the service keeps their Idempotency-Key (24 h); sent again they could be counted twice` });
  }

  #retryLater(batch: Batch, status: number | undefined, error: unknown, problem?: Problem): void {
    const attempt = ++this.#failures;
    const delay = fullJitterDelay(attempt, this.#backoffBaseMs, this.#backoffCapMs, this.#clock.random);
    this.#notBefore = Math.max(this.#notBefore, this.#clock.now() + delay);
    this.#ready.unshift(batch);
    const what = status !== undefined ? `${status} ${problem?.title ?? ''}`.trim() : `network error (${describe(error)})`;
    this.#report({ kind: 'retrying', ...(status !== undefined ? { status } : {}), ...(error !== undefined ? { error } : {}),
      attempt, delayMs: delay, message: `${what}: retrying in ${delay} ms with the same Idempotency-Key` });
  }

  #settle(hits: number): void {
    this.#inBatches -= hits;
  }

  #wakeIfPaced(): void {
    if (!this.#sleep?.paced) return;
    this.#clock.clearTimeout(this.#sleep.handle);
    this.#sleep.wake();
  }

  #pause(ms: number, paced = false): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        if (this.#sleep?.wake === wake) this.#sleep = undefined;
        resolve();
      };
      // Node cannot time more than 2^31-1 ms (it would fire at once); the pump looks again on waking
      const handle = this.#clock.setTimeout(wake, Math.min(ms, MAX_WAIT_MS));
      if (this.#waiters.length === 0) handle.unref?.();
      this.#sleep = { handle, wake, paced };
    });
  }

  #oldestPendingSeq(): number {
    let oldest = this.#current?.seqs[0] ?? Infinity;
    for (const b of this.#ready) if (b.seqs.length > 0 && b.seqs[0]! < oldest) oldest = b.seqs[0]!;
    if (this.#head < this.#buffer.length) oldest = Math.min(oldest, this.#buffer[this.#head]!.seq);
    return oldest;
  }

  #settleWaiters(): void {
    if (this.#waiters.length === 0) return;
    const oldest = this.#halted || this.#stopped ? Infinity : this.#oldestPendingSeq();
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (w.upTo < oldest) {
        this.#waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** While halted: the held batch goes again after the auth retry interval (a timer that never holds the process). */
  #armProbe(): void {
    this.#clearProbe();
    const handle = this.#clock.setTimeout(() => {
      this.#probeTimer = undefined;
      if (!this.#halted || this.#stopped) return;
      this.#halted = false;
      this.#schedulePump();
    }, this.#authRetryIntervalMs);
    handle.unref?.();
    this.#probeTimer = handle;
  }

  #clearProbe(): void {
    if (this.#probeTimer !== undefined) this.#clock.clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
  }

  /** End of close: timers cleared, an unfinished request abandoned, what is left counted as dropped. */
  #stop(): void {
    this.#stopped = true;
    this.#clearProbe();
    if (this.#flushTimer !== undefined) this.#clock.clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#sleep) {
      this.#clock.clearTimeout(this.#sleep.handle);
      this.#sleep.wake();
    }
    this.#inFlight?.abort();
    const left = this.#pending();
    if (left > 0) {
      this.#dropped += left;
      this.#buffer = [];
      this.#head = 0;
      this.#ready.length = 0;
      this.#inBatches = 0;
      this.#report({ kind: 'abandoned', hits: left,
        message: `close: ${left} hit(s) not sent ${this.#halted ? '(sending halted by a 401/403)' : `within ${this.#closeTimeoutMs} ms`}` });
    }
    this.#settleWaiters();
  }

  /** From record(): the listener runs after the caller's code, never inside its request. */
  #reportLater(event: UsageTrackerEvent): void {
    if (!this.#onError) return;
    setImmediate(() => this.#report(event));
  }

  #report(event: UsageTrackerEvent): void {
    if (!this.#onError) return;
    try {
      this.#onError(event);
    } catch {
      // a listener's failure is not the caller's
    }
  }
}

function newBatch(parts: string[], seqs: number[]): Batch {
  return { key: randomUUID(), parts, seqs, body: `{"hits":[${parts.join(',')}]}`, sends: 0, keyedAt: 0, mayHaveLanded: false };
}

/** A batch cut into batches of at most `size` hits, each with a new key, in order. */
function split(batch: Batch, size: number): Batch[] {
  const out: Batch[] = [];
  for (let i = 0; i < batch.parts.length; i += size) {
    out.push(newBatch(batch.parts.slice(i, i + size), batch.seqs.slice(i, i + size)));
  }
  return out;
}

const FIELD_RULES = {
  method: `not an HTTP method token of 1 to ${MAX_METHOD_LENGTH} characters`,
  status: 'not an integer HTTP status from 100 to 599',
  duration_ms: `not a number of milliseconds from 0 to ${MAX_DURATION_MS}`,
} as const;

const NEW_FIELD = /^hits\[\d+\]\.(method|status|duration_ms)$/;

/** A hit's JSON without method, status and duration_ms, for a service before contract v1.2. */
function withoutOutcome(part: string): string {
  const { ip, endpoint, timestamp } = JSON.parse(part) as { ip: string; endpoint: string; timestamp: string };
  return `{"ip":${JSON.stringify(ip)},"endpoint":${JSON.stringify(endpoint)},"timestamp":"${timestamp}"}`;
}

function hitJson(hit: BufferedHit, plain: boolean): string {
  let part = `{"ip":${JSON.stringify(hit.ip)},"endpoint":${JSON.stringify(hit.endpoint)},"timestamp":"${new Date(hit.at).toISOString()}"`;
  if (plain) return part + '}';
  // validated at record: a method token needs no escaping
  if (hit.method !== undefined) part += `,"method":"${hit.method}"`;
  if (hit.status !== undefined) part += `,"status":${hit.status}`;
  // to the microsecond: short, and never an exponent
  if (hit.durationMs !== undefined) part += `,"duration_ms":${Math.round(hit.durationMs * 1000) / 1000}`;
  return part + '}';
}

function timeOf(t: Date | number | string): number {
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'number') return Number.isFinite(t) ? t : NaN;
  if (typeof t === 'string') return Date.parse(t);
  return NaN;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`UsageTracker: ${name} must be a positive number`);
  }
  return Math.floor(value);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}
