/** A small client of the keyledger HTTP API for the CLI's `keys` and `recipients` verbs. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { code?: string; detail?: string; title?: string },
  ) {
    super(`${status} ${problem.code ?? ''} ${problem.detail ?? problem.title ?? ''}`.trim());
  }
}

export class KeyledgerClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  get(path: string): Promise<unknown> {
    return this.call('GET', path);
  }

  post(path: string, body: unknown, idempotencyKey?: string): Promise<unknown> {
    return this.call('POST', path, body, idempotencyKey);
  }

  private async call(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : null;
    if (!res.ok) throw new ApiError(res.status, (parsed ?? {}) as ApiError['problem']);
    return parsed;
  }
}
