// The change feed of one instance (SPEC §11): a dedicated connection (LISTEN needs one, not a
// pooled one) that hears every committed change of every instance. Each notification, and each
// move of the change counter that the feed notices on its own (a notification that was missed),
// moves the generation: the caches keyed on it are dropped. While the connection is down the
// generation is null, so nothing is cached, until it is back (reconnecting by itself).
import { Client } from 'pg';
import type { Logger } from 'pino';
import { PG_SCHEMA } from './schema';

export const CHANGES_CHANNEL = 'odc_portal_changes';

export interface ChangeFeedOptions {
  url: string;
  logger: Logger;
  /** How often the counter is read (a missed notification, a silently dead connection). */
  checkMs: number;
  connectTimeoutMs: number;
}

export class ChangeFeed {
  private client: Client | null = null;
  private up = false;
  private gen = 0;
  private counter: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private failures = 0;

  constructor(private readonly opts: ChangeFeedOptions) {}

  /** The generation of the caches, or null while the feed is down (no caching). */
  generation(): number | null {
    return this.up ? this.gen : null;
  }

  /** Connects; resolves after the first attempt, whether it succeeded or not (it keeps trying). */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({
      connectionString: this.opts.url,
      connectionTimeoutMillis: this.opts.connectTimeoutMs,
      query_timeout: Math.max(2_000, this.opts.checkMs * 4),
      keepAlive: true,
      application_name: 'odc-portal change feed',
      options: `-c search_path=${PG_SCHEMA}`,
    });
    this.client = client;
    client.on('error', (err) => this.down(client, err));
    client.on('end', () => this.down(client, new Error('the connection ended')));
    client.on('notification', (msg) => {
      if (client !== this.client) return;
      this.gen++;
      if (msg.payload) this.counter = msg.payload;
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      this.counter = await this.readCounter(client);
      if (client !== this.client) return;
      // Whatever happened while the feed was down is unknown: start from empty caches.
      this.gen++;
      this.up = true;
      if (this.failures > 0) this.opts.logger.warn('change feed reconnected: caches are in use again');
      this.failures = 0;
      this.schedule(() => this.check(client), this.opts.checkMs);
    } catch (err) {
      this.down(client, err);
    }
  }

  private async readCounter(client: Client): Promise<string> {
    const res = await client.query<{ counter: string }>('SELECT counter::text AS counter FROM changes WHERE id = 1');
    return res.rows[0]?.counter ?? '0';
  }

  private async check(client: Client): Promise<void> {
    if (client !== this.client || this.stopped) return;
    try {
      const counter = await this.readCounter(client);
      if (client !== this.client) return;
      if (counter !== this.counter) {
        // A change this feed was not told about: drop the caches all the same.
        this.counter = counter;
        this.gen++;
      }
      this.schedule(() => this.check(client), this.opts.checkMs);
    } catch (err) {
      this.down(client, err);
    }
  }

  private schedule(fn: () => Promise<void>, ms: number) {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void fn(), ms);
    this.timer.unref();
  }

  private down(client: Client, err: unknown) {
    if (client !== this.client || this.stopped) return;
    this.client = null;
    if (this.up || this.failures === 0) {
      const e = err as { code?: string; message?: string };
      this.opts.logger.warn({ err: { code: e?.code, message: e?.message?.split('\n')[0] } }, 'change feed down: serving without caches until it reconnects');
    }
    this.up = false;
    this.gen++;
    this.failures++;
    client.removeAllListeners('notification');
    client.on('error', () => {});
    void client.end().catch(() => {});
    this.schedule(() => this.connect(), Math.min(2_000, 250 * this.failures));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.up = false;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    if (client) {
      client.on('error', () => {});
      await client.end().catch(() => {});
    }
  }
}
