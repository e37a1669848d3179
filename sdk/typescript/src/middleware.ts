import { clientAddress, compileTrust, type TrustProxy } from './client-address.js';
import type { UsageTracker } from './tracker.js';

/** The parts of a request the middleware reads: Node's `IncomingMessage` and Express's `Request` fit. */
export interface RequestLike {
  method?: string | undefined;
  url?: string | undefined;
  originalUrl?: string | undefined;
  baseUrl?: string | undefined;
  route?: { path?: unknown } | undefined;
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string | undefined } | null | undefined;
}

/** The part of a response the middleware uses: Node's `ServerResponse` and Express's `Response` fit. */
export interface ResponseLike {
  statusCode?: number | undefined;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

export interface UsageTrackingOptions<Req extends RequestLike = RequestLike, Res extends ResponseLike = ResponseLike> {
  /** Which proxies may tell the client's address through `X-Forwarded-For`; default none. See {@link TrustProxy}. */
  trustProxy?: TrustProxy;
  /** The endpoint to report; default: the route template where Express exposes it, else the path without the query. */
  endpoint?: (req: Req) => string | undefined;
  /** Requests not to report (health checks, ...). */
  skip?: (req: Req, res: Res) => boolean;
  /**
   * Leave out requests no route matched (no route template, answered 404). Default false: they are recorded
   * under their path with their status.
   */
  skipUnmatched?: boolean;
}

/**
 * Express/Connect middleware (also plain `node:http` as `(req, res, next)`) that records every request
 * once it is answered: the route template (`req.baseUrl + req.route.path`, which Express sets only after
 * routing, so the hit is taken when the response finishes), else the path; the client address under the
 * `trustProxy` rule; the time the request arrived; its method, the status it was answered with and the
 * time from its arrival to the end of the answer. Recording never delays or fails the request.
 */
export function usageTracking<Req extends RequestLike = RequestLike, Res extends ResponseLike = ResponseLike>(
    tracker: Pick<UsageTracker, 'record'>, options: UsageTrackingOptions<Req, Res> = {}) {
  const trust = compileTrust(options.trustProxy);
  const { endpoint, skip } = options;
  const skipUnmatched = options.skipUnmatched === true;
  return function usageTrackingMiddleware(req: Req, res: Res, next?: (error?: unknown) => void): void {
    try {
      const arrived = Date.now();
      const started = performance.now();
      const ip = clientAddress(req.socket?.remoteAddress, req.headers['x-forwarded-for'], trust);
      const rawUrl = req.originalUrl ?? req.url ?? '/';
      let recorded = false;
      const record = () => {
        if (recorded) return;
        recorded = true;
        try {
          if (ip === undefined || (skip && skip(req, res))) return;
          const durationMs = performance.now() - started;
          const status = res.statusCode;
          const route = routeTemplate(req);
          if (skipUnmatched && route === undefined && status === 404) return;
          const name = (endpoint ? endpoint(req) : undefined) ?? route ?? pathOf(rawUrl);
          tracker.record({ ip, endpoint: name, timestamp: arrived, method: req.method, status, durationMs });
        } catch {
          // metering never breaks the response
        }
      };
      res.once('finish', record);
      res.once('close', record);
    } catch {
      // as above: whatever the request looks like, it is served
    }
    if (typeof next === 'function') next();
  };
}

function routeTemplate(req: RequestLike): string | undefined {
  const path = req.route?.path;
  if (typeof path !== 'string') return undefined;
  const base = typeof req.baseUrl === 'string' ? req.baseUrl : '';
  if (base && path === '/') return base;
  return base + path || '/';
}

function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  const path = end < 0 ? url : url.slice(0, end);
  return path.startsWith('/') ? path : '/' + path;
}
