import { BlockList, isIP } from 'node:net';

/**
 * Which proxies in front of the service may be believed about the client's address (`X-Forwarded-For`):
 * - `false` (default): none — the socket peer is the client; a client-sent header is ignored.
 * - `true`: every hop — the leftmost address of the header (only behind a proxy that overwrites it).
 * - a number n: the n hops nearest to the service (the socket peer is hop 1).
 * - addresses or CIDRs of the proxies (also `loopback`, `linklocal`, `uniquelocal`), e.g. `['10.0.0.0/8']`.
 * - a function `(address, hop) => boolean`.
 * The client is the first address, walking from the socket peer outwards, that is not trusted.
 */
export type TrustProxy = boolean | number | string | readonly string[] | ((address: string, hop: number) => boolean);

const NAMED: Record<string, readonly string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

export function compileTrust(trust: TrustProxy | undefined): (address: string, hop: number) => boolean {
  if (trust === undefined || trust === false) return () => false;
  if (trust === true) return () => true;
  if (typeof trust === 'function') return trust;
  if (typeof trust === 'number') {
    if (!Number.isInteger(trust) || trust < 0) throw new RangeError('trustProxy: a hop count must be a whole number >= 0');
    return (_address, hop) => hop <= trust;
  }
  const list = new BlockList();
  const entries = typeof trust === 'string' ? trust.split(',') : [...trust];
  for (const raw of entries.flatMap((e) => NAMED[e.trim()] ?? [e.trim()])) {
    if (!raw) continue;
    const [address, bits] = raw.split('/');
    const family = isIP(address ?? '');
    if (family === 0) throw new TypeError(`trustProxy: not an address or CIDR: ${raw}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address!, type);
    else {
      const prefix = Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        throw new TypeError(`trustProxy: bad prefix length in ${raw}`);
      }
      list.addSubnet(address!, prefix, type);
    }
  }
  return (address) => list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The client's address for a request that arrived from `peer` with these `X-Forwarded-For` values:
 * the socket peer unless it is a trusted proxy, then the header's entries from the right, each believed
 * only as long as the hop that reported it is trusted.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined,
    trust: (address: string, hop: number) => boolean): string | undefined {
  let current = normalize(peer);
  if (current === undefined) return undefined;
  const forwarded = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor ?? '')
    .split(',').map((s) => s.trim()).filter((s) => s.length > 0).reverse();
  for (let hop = 1; hop <= forwarded.length; hop++) {
    if (!trust(current, hop)) return current;
    const next = normalize(forwarded[hop - 1]);
    // a malformed entry is not an address: the trusted hop that passed it on is as far as we can see
    if (next === undefined) return current;
    current = next;
  }
  return current;
}

/** A bare address: IPv4-mapped IPv6 as IPv4, brackets, ports and zone ids removed; undefined if not an IP. */
export function normalize(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let a = value.trim();
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    if (end < 0) return undefined;
    a = a.slice(1, end);
  } else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(a)) {
    a = a.slice(0, a.lastIndexOf(':'));
  }
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (/^::ffff:\d{1,3}(\.\d{1,3}){3}$/i.test(a)) a = a.slice(7);
  return isIP(a) === 0 ? undefined : a;
}
