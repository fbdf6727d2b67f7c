/**
 * The live stream (`/v1/stream`): clients subscribe to topics — `prices`, `warnings`,
 * `liquidations`, `accounts` (every account's health changes) or `account:ID` — and get
 * JSON messages. A consumer that cannot keep up is dropped, never buffered without bound.
 */
import type { WebSocket } from 'ws';

export interface StreamOptions {
  /** Bytes a client may have waiting to be sent before it is dropped. */
  readonly maxBufferedBytes: number;
  readonly maxClients: number;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = { maxBufferedBytes: 1 << 20, maxClients: 1_000 };

interface Client {
  readonly socket: WebSocket;
  readonly topics: Set<string>;
  /** An owner key sees only its own account. */
  readonly account?: string;
}

export class StreamHub {
  private readonly clients = new Set<Client>();
  dropped = 0;

  constructor(private readonly options: StreamOptions = DEFAULT_STREAM_OPTIONS) {}

  get size(): number {
    return this.clients.size;
  }

  /** Adds a client; false when the hub is full (the caller closes the socket). */
  add(socket: WebSocket, account: string | undefined): boolean {
    if (this.clients.size >= this.options.maxClients) return false;
    const client: Client = { socket, topics: new Set(), ...(account !== undefined && { account }) };
    this.clients.add(client);
    socket.on('message', (data) => this.onMessage(client, data.toString()));
    socket.on('close', () => this.clients.delete(client));
    socket.on('error', () => this.clients.delete(client));
    this.send(client, { type: 'hello', topics: ['prices', 'warnings', 'liquidations', 'accounts', 'account:ID'] });
    return true;
  }

  /** Sends `message` to every client subscribed to `topic` (and allowed to see `account`). */
  publish(topic: string, message: Record<string, unknown>, account?: string): void {
    if (this.clients.size === 0) return;
    const text = JSON.stringify({ topic, ...message });
    for (const client of this.clients) {
      // An owner key sees its own account's messages and those about no account (prices).
      if (client.account !== undefined && account !== undefined && account !== client.account) continue;
      const wants = client.topics.has(topic) || (account !== undefined && client.topics.has(`account:${account}`));
      if (wants) this.sendText(client, text);
    }
  }

  closeAll(): void {
    for (const client of this.clients) client.socket.close(1001, 'server shutting down');
    this.clients.clear();
  }

  private onMessage(client: Client, text: string): void {
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      this.send(client, { type: 'error', code: 'INVALID_REQUEST', message: 'messages are JSON' });
      return;
    }
    const topics = (request as { subscribe?: unknown; unsubscribe?: unknown }) ?? {};
    for (const topic of asTopics(topics.subscribe)) {
      if (client.account !== undefined && topic.startsWith('account:') && topic !== `account:${client.account}`) {
        this.send(client, { type: 'error', code: 'FORBIDDEN', message: `an owner key sees only account ${client.account}` });
        continue;
      }
      if (client.topics.size < 64) client.topics.add(topic);
    }
    for (const topic of asTopics(topics.unsubscribe)) client.topics.delete(topic);
    this.send(client, { type: 'subscribed', topics: [...client.topics] });
  }

  private send(client: Client, message: Record<string, unknown>): void {
    this.sendText(client, JSON.stringify(message));
  }

  private sendText(client: Client, text: string): void {
    if (client.socket.bufferedAmount + text.length > this.options.maxBufferedBytes) {
      this.dropped += 1;
      this.clients.delete(client);
      client.socket.close(1013, 'too slow: dropped');
      return;
    }
    client.socket.send(text);
  }
}

function asTopics(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((topic): topic is string => typeof topic === 'string' && /^[A-Za-z0-9_.:-]{1,80}$/.test(topic));
}
