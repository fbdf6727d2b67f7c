/**
 * The service's HTTP API and stream address, with the signed-in key. Errors come back as the
 * service's `{ error: { code, message, …details } }`, raised as ApiError.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error's other fields (`field`, `issues`, …), as the service sent them. */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** Slower than this, a request is given up (the page retries on its next refresh). */
const REQUEST_TIMEOUT_MS = 15_000;

export interface RequestOptions {
  /** A longer bound for a request known to take long (a pre-flight). */
  readonly timeoutMs?: number;
}

export class Api {
  constructor(readonly key: string) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path, undefined, REQUEST_TIMEOUT_MS);
  }

  post<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, body, options.timeoutMs ?? REQUEST_TIMEOUT_MS);
  }

  /** The stream takes the key as `?key=`: browsers cannot set headers on a WebSocket. */
  streamUrl(): string {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/v1/stream?key=${encodeURIComponent(this.key)}`;
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body: unknown, timeoutMs: number): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        cache: 'no-store',
        signal: AbortSignal.timeout(timeoutMs),
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new ApiError(0, 'NETWORK', `the service did not answer (${(error as Error).message})`);
    }
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      throw new ApiError(response.status, 'BAD_RESPONSE', `unexpected answer from ${path}`);
    }
    if (!response.ok) {
      const { code, message, ...details } = (json as { error?: { code?: string; message?: string } } | null)?.error ?? {};
      throw new ApiError(response.status, code ?? 'HTTP_' + response.status, message ?? response.statusText, details);
    }
    return json as T;
  }
}
