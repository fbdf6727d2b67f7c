/** A WebSocket client of `/v1/stream` for the tests: collects messages, waits for one. */
import WebSocket from 'ws';

export type StreamMessage = Record<string, unknown> & { readonly type?: string; readonly topic?: string };

export class StreamClient {
  readonly messages: StreamMessage[] = [];
  private waiters: { predicate: (message: StreamMessage) => boolean; resolve: (message: StreamMessage) => void }[] = [];

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as StreamMessage;
      this.messages.push(message);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.predicate(message)) return true;
        waiter.resolve(message);
        return false;
      });
    });
  }

  /** Connects with a key; the HTTP status when the upgrade is refused. */
  static connect(baseUrl: string, key: string | undefined): Promise<{ client: StreamClient } | { status: number }> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/stream`, {
      ...(key !== undefined && { headers: { authorization: `Bearer ${key}` } }),
    });
    const client = new StreamClient(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve({ client }));
      socket.once('unexpected-response', (_request, response) => {
        resolve({ status: response.statusCode ?? 0 });
        socket.terminate();
      });
      socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  /** The first message (already received or to come) that matches, or a timeout error. */
  waitFor(predicate: (message: StreamMessage) => boolean, timeoutMs = 5_000): Promise<StreamMessage> {
    const seen = this.messages.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no stream message matched within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}
