/**
 * CloudWatch Logs, as far as the emulator writes to it: every line a function writes (and the
 * Lambda service's START/END/REPORT lines, and the stage's access log) becomes an event of
 * its log group, kept in order. Tests read the events (and the JSON ones as records) and run
 * the template's metric filters over them; `npm run dev` prints them as they come.
 */

export interface LogEvent {
  readonly group: string;
  readonly stream: string;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly message: string;
}

export interface LogSink {
  write(group: string, stream: string, message: string): void;
}

export class LogGroups implements LogSink {
  readonly #events: LogEvent[] = [];
  readonly #listeners = new Set<(event: LogEvent) => void>();
  /** Bound on what is kept: a long `npm run dev` session must not grow without end. */
  readonly #maxEvents: number;

  constructor(options: { maxEvents?: number } = {}) {
    this.#maxEvents = options.maxEvents ?? 200_000;
  }

  write(group: string, stream: string, message: string): void {
    const event = { group, stream, timestamp: Date.now(), message };
    this.#events.push(event);
    if (this.#events.length > this.#maxEvents)
      this.#events.splice(0, this.#events.length - this.#maxEvents);
    for (const listener of this.#listeners) listener(event);
  }

  /** Call `listener` with every event written from now on; returns a function that stops it. */
  subscribe(listener: (event: LogEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The events so far, of one group or all. */
  events(group?: string): LogEvent[] {
    return group === undefined ? [...this.#events] : this.#events.filter((e) => e.group === group);
  }

  /** The events that are JSON objects (Powertools records, access-log lines), parsed. */
  records(group?: string): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const event of this.events(group)) {
      if (!event.message.startsWith('{')) continue;
      try {
        const parsed: unknown = JSON.parse(event.message);
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
          out.push(parsed as Record<string, unknown>);
        }
      } catch {
        // not JSON: a plain line
      }
    }
    return out;
  }

  /** How many events have been written (an index to read from later). */
  get size(): number {
    return this.#events.length;
  }
}
