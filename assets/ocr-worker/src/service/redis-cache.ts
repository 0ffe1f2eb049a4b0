/**
 * Result cache in Redis/Valkey (TLS with rediss://, AUTH token). The service must work when the cache
 * is down: every failure is logged and counted as a miss, and commands fail fast instead of queueing.
 */
import { createClient } from 'redis';
import type { OcrResult } from '../result.ts';
import type { Cache } from './stores.ts';

export interface RedisCacheOptions {
  url: string;
  authToken?: string | null;
  /** Upper bound on one cache command, ms. Default 1000. */
  commandTimeoutMs?: number;
  onError?: (message: string) => void;
}

export class RedisCache implements Cache {
  private readonly client;
  private readonly timeoutMs: number;
  private readonly onError: (message: string) => void;
  private lastErrorLog = 0;

  constructor(opts: RedisCacheOptions) {
    this.timeoutMs = opts.commandTimeoutMs ?? 1000;
    this.onError = opts.onError ?? (() => undefined);
    const tls = opts.url.startsWith('rediss://');
    this.client = createClient({
      url: opts.url,
      ...(opts.authToken ? { password: opts.authToken } : {}),
      // fail fast while disconnected (a cache must never stall a request); reconnect in the background
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 2000,
        reconnectStrategy: (retries: number) => Math.min(200 * 2 ** Math.min(retries, 5), 5000),
        ...(tls ? { tls: true as const } : {}),
      },
    });
    this.client.on('error', (err: Error) => this.logError(`redis: ${err.message}`));
  }

  private logError(message: string): void {
    // a down cache reports on every reconnect attempt: log at most every 10 s
    if (Date.now() - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = Date.now();
    this.onError(message);
  }

  /** Starts connecting; never throws (the service starts without its cache). */
  connect(): void {
    this.client.connect().catch((err: Error) => this.logError(`redis connect: ${err.message}`));
  }

  private bounded<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout;
    const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`cache command took longer than ${this.timeoutMs} ms`)), this.timeoutMs); });
    return Promise.race([p, t]).finally(() => clearTimeout(timer));
  }

  async get(key: string): Promise<OcrResult | undefined> {
    try {
      const v = await this.bounded(this.client.get(key));
      return typeof v === 'string' ? JSON.parse(v) : undefined;
    } catch (err) {
      this.logError(`cache get failed: ${(err as Error).message}`);
      return undefined;
    }
  }

  async set(key: string, result: OcrResult, ttlSeconds: number): Promise<void> {
    try {
      await this.bounded(this.client.set(key, JSON.stringify(result), { EX: ttlSeconds }));
    } catch (err) {
      this.logError(`cache set failed: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    // close() waits for pending replies; while disconnected (reconnecting) it would wait forever
    try {
      if (this.client.isReady) await this.bounded(this.client.close());
      else if (this.client.isOpen) this.client.destroy();
    } catch {
      try { this.client.destroy(); } catch { /* already closed */ }
    }
  }
}
