import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { createEventHub } from '../../src/monitor/event-hub.js';
import type { LookupHost } from '../../src/opencode/address-guard.js';
import { createOpencodeClient } from '../../src/opencode/client.js';
import { createConnectionGuard } from '../../src/opencode/connection-guard.js';
import { openEventStream, type ServerEvent } from '../../src/opencode/event-stream.js';
import type { ServerRef } from '../../src/opencode/server-ref.js';
import { sshExecutorSchema } from '../../src/executors/index.js';
import { openServerHost } from '../../src/opencode-host/host-registry.js';
import { startRecorder, type Recorder } from '../helpers/hostile-proxy.js';
import { until, within } from './helpers/wait.js';
import { refusalOf } from './helpers/refusal.js';

/**
 * The connection guard through the real client, event stream, event hub and tunnel, against loopback servers.
 * 169.254.x cannot be bound here, so a resolver seam maps names: whatever it answers is what a connection would
 * use, and a refusal proves the socket was never made (a connect to 169.254.169.254 would time out instead).
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A resolver whose answers the test changes between connections (DNS rebinding). */
function rebindingResolver(first: string[]) {
  let answer = first;
  const asked: string[] = [];
  const lookupHost: LookupHost = async (host) => {
    asked.push(host);
    return answer;
  };
  return { lookupHost, asked, answer: (next: string[]) => (answer = next) };
}

interface FakeOpencode {
  port: number;
  requests: string[];
}

/** Health and an event stream, closing each connection after its reply so every request is a new connection. */
async function startFakeOpencode(eventsTo?: () => string): Promise<FakeOpencode> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/global/event') {
      if (eventsTo) {
        res.writeHead(302, { location: eventsTo(), connection: 'close' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ payload: { type: 'server.connected', properties: {} } })}\n\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ healthy: true, version: '1.0.0' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as AddressInfo).port, requests };
}

const HINT = 'an admin can allow it with `access.allowMetadataAddresses: true` in switchboard.yaml';
const lab = (url: string): ServerRef => ({ label: 'lab', url, username: 'opencode' });

describe('the REST client checks every connection', () => {
  it('a name that rebinds to the metadata address after the first call is refused on the next connection', async () => {
    const server = await startFakeOpencode();
    const dns = rebindingResolver(['127.0.0.1']);
    const guard = createConnectionGuard({ lookupHost: dns.lookupHost, allowMetadataAddresses: false });
    const client = createOpencodeClient(lab(`http://opencode.test:${server.port}`), { guard, timeoutMs: 3_000 });

    expect(await client.health()).toEqual({ healthy: true, version: '1.0.0' });
    dns.answer(['169.254.169.254']);
    const error = await refusalOf(client.health());

    expect(error.code).toBe('forbidden');
    expect(error.message).toBe('server lab: refusing the connection: opencode.test (169.254.169.254) is a link-local or cloud metadata address');
    expect(error.hint).toBe(HINT);
    expect(dns.asked).toEqual(['opencode.test', 'opencode.test']);
    expect(server.requests).toEqual(['GET /global/health']);
  });

  it('an IPv6 literal embedding the metadata address is refused before any socket, without a lookup', async () => {
    const dns = rebindingResolver([]);
    const guard = createConnectionGuard({ lookupHost: dns.lookupHost, allowMetadataAddresses: false });
    for (const host of ['[::169.254.169.254]', '[64:ff9b::a9fe:a9fe]', '[::ffff:0:a9fe:a9fe]', '[::ffff:169.254.169.254]']) {
      const error = await refusalOf(createOpencodeClient(lab(`http://${host}:4096`), { guard, timeoutMs: 3_000 }).health());
      expect(error.code, host).toBe('forbidden');
      expect(error.message, host).toMatch(/^server lab: refusing the connection: .+ is a link-local or cloud metadata address$/);
    }
    expect(dns.asked).toEqual([]);
  });

  it('with access.allowMetadataAddresses, the same answers connect', async () => {
    const server = await startFakeOpencode();
    const guard = createConnectionGuard({ lookupHost: async () => ['127.0.0.1'], allowMetadataAddresses: true });
    const client = createOpencodeClient(lab(`http://metadata.google.internal.:${server.port}`), { guard, timeoutMs: 3_000 });
    expect(await client.health()).toEqual({ healthy: true, version: '1.0.0' });
    expect(server.requests).toEqual(['GET /global/health']);
  });
});

describe('the event stream', () => {
  let recorder: Recorder;

  it('never follows a redirect: the target sees no request, the stream ends saying why, nothing is taken as an event', async () => {
    recorder = await startRecorder();
    cleanups.push(() => recorder.close());
    const server = await startFakeOpencode(() => `${recorder.url}/latest/meta-data/iam/security-credentials/`);
    const events: ServerEvent[] = [];
    let opened = false;
    const stream = openEventStream(lab(`http://127.0.0.1:${server.port}`), { onOpen: () => (opened = true), onEvent: (event) => events.push(event) });

    const end = await within(stream.ended, 10_000, 'the stream to end');

    expect(end).toEqual({ reason: 'lab redirects (302); it does not look like an OpenCode server', refused: true });
    expect(server.requests).toEqual(['GET /global/event']);
    expect(recorder.hits).toEqual([]);
    expect(events).toEqual([]);
    expect(opened).toBe(false);
  });

  it('through the event hub, a redirecting server is reported once at warn and never followed on reconnects', async () => {
    recorder = await startRecorder();
    cleanups.push(() => recorder.close());
    const server = await startFakeOpencode(() => `${recorder.url}/latest/meta-data/`);
    const warnings: string[] = [];
    const hub = createEventHub({
      logger: { ...silentLogger, warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`) },
      onEvent: () => expect.fail('no event may come from a redirect'),
      onConnected: () => expect.fail('a redirect is not a connected stream'),
    });
    cleanups.push(() => hub.stop());
    const ref = lab(`http://127.0.0.1:${server.port}`);
    hub.want(new Map([['lab', ref]]));

    // The first reconnect comes after ~0.5–1 s of backoff: wait for it, then check it stayed quiet too.
    await until(() => server.requests.length >= 2, 'a reconnect', 10_000);

    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^event stream refused; reconnecting \{"server":"lab","reason":"lab redirects \(302\); it does not look like an OpenCode server","inMs":\d+\}$/);
    expect(recorder.hits).toEqual([]);
  });

  it('a name that rebinds to the metadata address is refused when the stream (re)connects', async () => {
    const server = await startFakeOpencode();
    const dns = rebindingResolver(['127.0.0.1']);
    const guard = createConnectionGuard({ lookupHost: dns.lookupHost, allowMetadataAddresses: false });
    const ref = lab(`http://opencode.test:${server.port}`);

    const first = openEventStream(ref, { onOpen: () => undefined, onEvent: () => undefined }, { guard });
    await until(() => server.requests.length === 1, 'the first stream');
    first.close();
    dns.answer(['10.0.0.1', '64:ff9b::a9fe:a9fe']);
    const second = openEventStream(ref, { onOpen: () => expect.fail('must not open'), onEvent: () => undefined }, { guard });

    expect(await within(second.ended, 10_000, 'the refusal')).toEqual({
      reason: 'server lab: refusing the connection: opencode.test (64:ff9b::a9fe:a9fe) is a link-local or cloud metadata address',
      refused: true,
    });
    expect(server.requests).toEqual(['GET /global/event']);
  });
});

describe("the tunnel to a managed server's host", () => {
  /** An ssh2 client that records where it was told to connect, and fails like a closed port. */
  function fakeSshClients() {
    const hosts: string[] = [];
    const createClient = () => {
      const client = new EventEmitter() as EventEmitter & { connect(config: { host: string }): void; end(): void };
      client.connect = (config) => {
        hosts.push(config.host);
        setImmediate(() => client.emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
      };
      client.end = () => undefined;
      return client as unknown as Client;
    };
    return { hosts, createClient };
  }

  it('resolves the host afresh for each SSH connection and refuses a metadata answer before connecting', async () => {
    const ssh = fakeSshClients();
    const dns = rebindingResolver(['127.0.0.1']);
    // The managed server's host as opencode-host opens it: its port forward rides the host's one connection.
    const host = openServerHost(
      sshExecutorSchema.parse({ type: 'ssh', name: 'box', host: 'box.test', user: 'me', agent: '/nonexistent/agent.sock', insecureAcceptNewHostKey: true, connectTimeoutSec: 2 }),
      {
        clock: { now: () => 0 },
        logger: silentLogger,
        runtimeEnv: {},
        createSshClient: ssh.createClient,
        connectionGuard: createConnectionGuard({ lookupHost: dns.lookupHost, allowMetadataAddresses: false }),
      },
    );
    cleanups.push(() => host.close());
    const tunnel = await host.forward(4096);
    cleanups.push(() => tunnel.close());

    const refused = await refusalOf(tunnel.connect());
    expect(refused.code).toBe('executor_unreachable');
    // ssh2 got the checked address, not the name it would resolve again.
    expect(ssh.hosts).toEqual(['127.0.0.1']);

    dns.answer(['169.254.169.254']);
    const error = await refusalOf(tunnel.connect());
    expect(error.code).toBe('forbidden');
    expect(error.message).toBe(
      "ssh executor 'box' (me@box.test:22): refusing the connection: box.test (169.254.169.254) is a link-local or cloud metadata address",
    );
    expect(error.hint).toBe(HINT);
    expect(ssh.hosts).toEqual(['127.0.0.1']);
  });
});
