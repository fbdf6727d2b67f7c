/**
 * The live stream (`/v1/stream`): one WebSocket for the whole page, topics counted by the
 * views that want them, reconnection with backoff, and a state the header shows.
 */
import type { StreamMessage } from './types.ts';

export type LiveState = 'connecting' | 'live' | 'offline';

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

export class Live {
  private socket: WebSocket | null = null;
  private readonly wanted = new Map<string, number>();
  private readonly listeners = new Set<(message: StreamMessage) => void>();
  private readonly stateListeners = new Set<(state: LiveState) => void>();
  private retryMs = RETRY_MIN_MS;
  private retryTimer: number | undefined;
  private stopped = false;
  state: LiveState = 'connecting';

  constructor(private readonly url: string) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retryTimer);
    this.socket?.close(1000, 'signed out');
    this.socket = null;
  }

  /** Wants `topics` until the returned function is called. */
  subscribe(topics: readonly string[]): () => void {
    const added = topics.filter((topic) => {
      const count = this.wanted.get(topic) ?? 0;
      this.wanted.set(topic, count + 1);
      return count === 0;
    });
    if (added.length > 0) this.send({ subscribe: added });
    return () => {
      const removed = topics.filter((topic) => {
        const count = (this.wanted.get(topic) ?? 1) - 1;
        if (count <= 0) this.wanted.delete(topic);
        else this.wanted.set(topic, count);
        return count <= 0;
      });
      if (removed.length > 0) this.send({ unsubscribe: removed });
    };
  }

  onMessage(listener: (message: StreamMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: (state: LiveState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  private connect(): void {
    this.setState('connecting');
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.retryMs = RETRY_MIN_MS;
      this.setState('live');
      if (this.wanted.size > 0) this.send({ subscribe: [...this.wanted.keys()] });
    });
    socket.addEventListener('message', (event) => {
      let message: StreamMessage;
      try {
        message = JSON.parse(String(event.data)) as StreamMessage;
      } catch {
        return;
      }
      for (const listener of this.listeners) listener(message);
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.setState('offline');
      if (this.stopped) return;
      this.retryTimer = window.setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    });
  }

  private send(message: Record<string, unknown>): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private setState(state: LiveState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }
}
