import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/core/logger.js';
import { createEventHub, serverKeyOf, type EventHub } from '../../src/monitor/event-hub.js';
import type { EventStreamHandlers, StreamEnd } from '../../src/opencode/event-stream.js';
import type { ServerRef } from '../../src/opencode/server-ref.js';
import { settle, within } from './helpers/wait.js';

/**
 * The event hub's holds: a prompt is sent only once its server's stream relays, and a held stream outlives the
 * watches that would otherwise let it close. The streams are stand-ins the test opens, relays and ends by hand.
 */
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const lab: ServerRef = { label: 'lab', url: 'http://127.0.0.1:1', username: 'opencode' };
const key = serverKeyOf(lab);

interface FakeStream {
  handlers: EventStreamHandlers;
  closed: boolean;
  end(reason: string): void;
}

let hub: EventHub | undefined;
afterEach(() => hub?.stop());

function setUp() {
  const streams: FakeStream[] = [];
  const connected: string[] = [];
  hub = createEventHub({
    logger: quiet,
    lingerMs: 0,
    onEvent: () => undefined,
    onConnected: (serverKey) => connected.push(serverKey),
    open: (_server, handlers) => {
      let finish!: (end: StreamEnd) => void;
      const ended = new Promise<StreamEnd>((resolve) => (finish = resolve));
      const stream: FakeStream = { handlers, closed: false, end: (reason) => finish({ reason }) };
      streams.push(stream);
      return {
        ended,
        close: () => {
          stream.closed = true;
          finish({ reason: 'closed' });
        },
      };
    },
  });
  return { hub, streams, connected };
}

describe('event hub holds', () => {
  it('opens the stream for a prompt and answers only once the server relays (its first frame)', async () => {
    const { hub, streams, connected } = setUp();
    let answered: boolean | undefined;
    const ready = hub.hold('kumo', lab, 60_000).then((relaying) => (answered = relaying));
    await settle();
    expect(streams).toHaveLength(1);
    expect(answered).toBeUndefined();
    streams[0]!.handlers.onOpen();
    expect(await within(ready)).toBe(true);
    expect(connected).toEqual([key]);
    expect(hub.isOpen(key)).toBe(true);
  });

  it('keeps a held stream open with no watch, and closes it once the watch that took over has ended', async () => {
    const { hub, streams } = setUp();
    const ready = hub.hold('kumo', lab, 60_000);
    streams[0]!.handlers.onOpen();
    await ready;
    // Another name's watch ends on the same server: the held stream stays.
    hub.want(new Map());
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(streams[0]!.closed).toBe(false);
    // The prompt's watch takes over, then ends: the stream closes (no linger here).
    hub.want(new Map([[key, lab]]));
    hub.release('kumo');
    expect(streams[0]!.closed).toBe(false);
    hub.want(new Map());
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(streams[0]!.closed).toBe(true);
    expect(hub.isOpen(key)).toBe(false);
  });

  it('lets the prompt go at once when the attempt fails, and does not wait on a stream already failing', async () => {
    const { hub, streams } = setUp();
    const first = hub.hold('kumo', lab, 60_000);
    streams[0]!.end('ECONNREFUSED');
    expect(await within(first)).toBe(false);
    // The hub retries with backoff; meanwhile a second prompt is not held up by a stream known to be down.
    expect(await within(hub.hold('sora', lab, 60_000), 100, 'an immediate answer')).toBe(false);
  });

  it('gives up waiting after the wait, and the prompt goes without the stream', async () => {
    const { hub } = setUp();
    expect(await within(hub.hold('kumo', lab, 10), 5_000)).toBe(false);
  });
});
