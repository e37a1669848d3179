/** An RFC 9457 problem as the service answers errors: `errors[]` names the fields of a validation failure. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
}

export interface FieldError {
  field: string;
  message: string;
}

export function parseProblem(body: string): Problem | undefined {
  if (!body) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const p = parsed as Record<string, unknown>;
    const problem: Problem = {};
    if (typeof p['type'] === 'string') problem.type = p['type'];
    if (typeof p['title'] === 'string') problem.title = p['title'];
    if (typeof p['status'] === 'number') problem.status = p['status'];
    if (typeof p['detail'] === 'string') problem.detail = p['detail'];
    if (typeof p['instance'] === 'string') problem.instance = p['instance'];
    if (Array.isArray(p['errors'])) {
      problem.errors = p['errors']
        .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
        .map((e) => ({ field: String(e['field'] ?? ''), message: String(e['message'] ?? '') }));
    }
    return problem;
  } catch {
    return undefined;
  }
}

/**
 * The positions of the hits a validation problem names (`hits[3].ip`, `hits[3]`); empty when it names
 * none, i.e. the request as a whole was refused.
 */
export function namedHits(problem: Problem | undefined, batchSize: number): Set<number> {
  const named = new Set<number>();
  for (const e of problem?.errors ?? []) {
    const m = /^hits\[(\d+)\]/.exec(e.field);
    if (m) {
      const i = Number(m[1]);
      if (i < batchSize) named.add(i);
    }
  }
  return named;
}
