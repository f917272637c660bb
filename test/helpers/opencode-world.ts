import { afterAll, beforeAll } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { removeServerRoot, startOpencodeServer, type OpencodeServer, type OpencodeServerOptions } from './opencode-server.js';

type Stoppable = { stop(): Promise<void> };

export interface OpencodeWorld {
  readonly llm: FakeLlm;
  readonly server: OpencodeServer;
}

/**
 * The world most end-to-end files run in: the scripted fake LLM and a real `opencode` server on it, started once
 * for the file (beforeAll), and what the file builds on them (a harness, a bot) started by `build`. What `build`
 * passes to `keep` is stopped first (afterAll, last kept first); whatever did start is stopped even when a later
 * step failed. Read `llm` and `server` from the returned world inside tests: they exist once beforeAll has run.
 */
export function useOpencodeWorld(
  build: (world: OpencodeWorld, keep: <T extends Stoppable>(started: T) => T) => Promise<void> = async () => undefined,
  options: Omit<OpencodeServerOptions, 'llmBaseUrl'> & { hookTimeoutMs?: number } = {},
): OpencodeWorld {
  const { hookTimeoutMs, ...serverOptions } = options;
  let llm: FakeLlm | undefined;
  let server: OpencodeServer | undefined;
  const kept: Stoppable[] = [];
  const world: OpencodeWorld = {
    get llm() {
      if (!llm) throw new Error('the fake LLM is not started (read it inside a test, not at import)');
      return llm;
    },
    get server() {
      if (!server) throw new Error('the opencode server is not started (read it inside a test, not at import)');
      return server;
    },
  };
  beforeAll(async () => {
    llm = await startFakeLlm();
    server = await startOpencodeServer({ ...serverOptions, llmBaseUrl: llm.baseUrl });
    await build(world, (started) => {
      kept.push(started);
      return started;
    });
  }, hookTimeoutMs);
  afterAll(async () => {
    for (const started of kept.reverse()) await started.stop();
    await server?.stop();
    await llm?.close();
    if (server) removeServerRoot(server);
  });
  return world;
}
