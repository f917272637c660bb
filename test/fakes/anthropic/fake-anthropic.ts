import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LEAKED_SECRETS, PEM_KEY } from '../llm/fake-llm.js';
import { createRequestLog } from '../requests.js';

/**
 * A scripted Anthropic Messages API for the real `claude` CLI (ANTHROPIC_BASE_URL points here). What it answers
 * is chosen by markers in the latest user text, so a test says what the agent should do in the prompt itself:
 *
 *   TODO          → a TodoWrite call (one done, one in progress, one pending), then the final text; the CLI
 *                   offers TodoWrite only with CLAUDE_CODE_ENABLE_TODO_TOOLS=true and CLAUDE_CODE_ENABLE_TASKS=false
 *   TASKS         → two TaskCreate calls, then two TaskUpdate calls (this CLI's default task list), then the text
 *   BASH: <cmd>   → a Bash call running <cmd> (rest of that line), then the final text
 *   HANG:<sec>    → a Bash call running `python3 -c "import time; time.sleep(<sec>)"` (plain `sleep` is blocked
 *                   by this CLI version), then the final text
 *   HOLD:<key>    → the reply waits until the test calls `release(key)` (a deterministic busy window)
 *   FAIL500       → HTTP 500 on every request of that turn
 *   SECRETS       → every secret in its todo, tool arguments and output: a TodoWrite of `LEAKED_SECRETS` and
 *                   `PEM_KEY` (from the fake LLM), a Bash call printing them and `$LAB_PASSWORD` (a server password
 *                   the task's environment holds), then a final text with them and what Bash printed
 *   SLOW          → 150 ms between streamed words
 *   anything else → the final text `Done: <first line of the latest user text>`
 *
 * HOLD and FAIL500 act on the first request of a turn; tool results move a script on. A resume (a user text
 * holding Switchboard's resume preamble, which quotes the original request; after a failed turn the CLI merges
 * it into the previous user message) gets the final text at once.
 * Requests the CLI makes on the side (no tools offered: titles, quota probes) get a short harmless text. Every request is
 * recorded, so a test can check what the CLI sent (the prompt byte for byte, earlier turns on a resume).
 */
export interface FakeAnthropic {
  /** For ANTHROPIC_BASE_URL (no trailing /v1: the CLI adds it). */
  baseUrl: string;
  requests: MessagesRequest[];
  /** Requests to routes the fake does not script (recorded so a test can see what the CLI probes). */
  otherRoutes: string[];
  release(key: string): void;
  /** Resolves when a request whose latest user text includes `marker` arrives (already-arrived ones count). */
  waitForRequest(marker: string, timeoutMs?: number): Promise<MessagesRequest>;
  close(): Promise<void>;
}

export interface MessagesRequest {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  tools: Array<{ name: string }>;
  /** The text of the latest user message that is not only tool results. */
  lastUserText: string;
  /** How many tool-call rounds of the current turn came before this request (0: the turn's first request). */
  step: number;
  /** Every user text in the conversation, oldest first (to check a resume carried earlier turns). */
  userTexts: string[];
}

export const FAKE_TODOS = [
  { content: 'Read the failing test', status: 'completed', activeForm: 'Reading the failing test' },
  { content: 'Fix parse()', status: 'in_progress', activeForm: 'Fixing parse()' },
  { content: 'Update the changelog', status: 'pending', activeForm: 'Updating the changelog' },
];

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const log = createRequestLog<MessagesRequest>('fake anthropic');
  const requests = log.requests;
  const otherRoutes: string[] = [];
  const gates = new Map<string, Array<() => void>>();
  const released = new Set<string>();
  let counter = 0;

  const waitGate = (key: string) =>
    released.has(key)
      ? Promise.resolve()
      : new Promise<void>((resolve) => gates.set(key, [...(gates.get(key) ?? []), resolve]));

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: String(error) } }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
      return json(res, 200, { input_tokens: 42 });
    }
    if (req.method !== 'POST' || path !== '/v1/messages') {
      otherRoutes.push(`${req.method} ${req.url}`);
      if (path === '/v1/models') return json(res, 200, { data: [], has_more: false });
      return json(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'fake anthropic: no route' } });
    }
    const parsed = JSON.parse(body) as { model: string; messages: MessagesRequest['messages']; tools?: Array<{ name: string }> };
    const request = describe(parsed);
    const model = parsed.model;
    const id = ++counter;

    log.record(request);
    if (request.tools.length === 0) return streamMessage(res, id, model, [{ type: 'text', text: 'ok' }], 'end_turn');

    const text = request.lastUserText;
    if (request.step === 0 && !text.includes(RESUME_PREFIX)) {
      const hold = /HOLD:([\w-]+)/.exec(text);
      if (hold?.[1]) await waitGate(hold[1]);
      if (text.includes('FAIL500')) {
        return json(res, 500, { type: 'error', error: { type: 'api_error', message: 'fake internal error' } });
      }
    }
    // A marker picks a script of tool-call steps; each tool result moves to the next step, then the final text.
    const step = scriptFor(text)[request.step];
    if (step) return streamMessage(res, id, model, step, 'tool_use');
    const final = text.includes('SECRETS') && !text.includes(RESUME_PREFIX) ? secretsText(request) : finalText(text);
    return streamMessage(res, id, model, [{ type: 'text', text: final }], 'end_turn', text.includes('SLOW'));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    otherRoutes,
    release(key) {
      released.add(key);
      for (const open of gates.get(key) ?? []) open();
      gates.delete(key);
    },
    waitForRequest: (marker, timeoutMs) => log.waitFor(marker, timeoutMs),
    async close() {
      for (const opens of gates.values()) for (const open of opens) open();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The tool-call steps a prompt asks for (empty: answer with the final text at once). */
function scriptFor(text: string): Block[][] {
  // A resume quotes the original request after its preamble; its markers were acted on already.
  if (text.includes(RESUME_PREFIX)) return [];
  if (text.includes('SECRETS')) {
    const secrets = [...LEAKED_SECRETS, PEM_KEY];
    return [
      [{ type: 'tool_use', name: 'TodoWrite', input: { todos: secrets.map((secret, i) => ({ content: `Rotate ${secret}`, status: i === 0 ? 'in_progress' : 'pending', activeForm: `Rotating ${secret}` })) } }],
      [{ type: 'tool_use', name: 'Bash', input: { command: `printf '%s\\n' ${secrets.map((s) => `'${s}'`).join(' ')} "$LAB_PASSWORD"`, description: 'Print the keys' } }],
    ];
  }
  if (text.includes('TODO')) return [[{ type: 'tool_use', name: 'TodoWrite', input: { todos: FAKE_TODOS } }]];
  if (text.includes('TASKS')) {
    return [
      [
        { type: 'tool_use', name: 'TaskCreate', input: { subject: 'Write the parser', description: 'parser', activeForm: 'Writing the parser' } },
        { type: 'tool_use', name: 'TaskCreate', input: { subject: 'Test the parser', description: 'tests', activeForm: 'Testing the parser' } },
      ],
      [
        { type: 'tool_use', name: 'TaskUpdate', input: { taskId: '1', status: 'completed' } },
        { type: 'tool_use', name: 'TaskUpdate', input: { taskId: '2', status: 'in_progress' } },
      ],
    ];
  }
  const hang = /HANG:(\d+)/.exec(text);
  if (hang?.[1]) {
    const command = `python3 -c "import time; time.sleep(${hang[1]})"`;
    return [[{ type: 'tool_use', name: 'Bash', input: { command, description: 'Wait' } }]];
  }
  const bash = /BASH: ?(.*)/.exec(text);
  if (bash?.[1]) return [[{ type: 'tool_use', name: 'Bash', input: { command: bash[1], description: 'Run the command' } }]];
  return [];
}

/** How Switchboard's resume preamble starts (src/executors/fleet.ts). */
export const RESUME_PREFIX = '[Switchboard] This session was interrupted';

function finalText(prompt: string): string {
  const firstLine = prompt.split('\n')[0] ?? '';
  return `Done: ${firstLine}`;
}

/** The SECRETS final: every secret, and what the Bash call printed (its tool result, the latest one). */
function secretsText(request: MessagesRequest): string {
  const results = request.messages.flatMap((m) => (Array.isArray(m.content) ? m.content.filter((part) => isPart(part, 'tool_result')) : []));
  const content = (results[results.length - 1] as { content?: unknown } | undefined)?.content;
  const printed = typeof content === 'string' ? content : Array.isArray(content) ? content.map((part) => String((part as { text?: unknown }).text ?? '')).join('') : '';
  return `Found these keys:\n${[...LEAKED_SECRETS, PEM_KEY].join('\n')}\nBash printed:\n${printed.trim()}`;
}

type Block = { type: 'text'; text: string } | { type: 'tool_use'; name: string; input: unknown };

function describe(body: { messages: MessagesRequest['messages']; tools?: Array<{ name: string }>; model: string }): MessagesRequest {
  const messages = body.messages ?? [];
  const userTexts = messages.filter((m) => m.role === 'user').map((m) => userText(m.content)).filter((t) => t !== '');
  // The step is how many assistant turns came after the latest message carrying user words.
  let lastWords = -1;
  messages.forEach((m, i) => {
    if (m.role === 'user' && userText(m.content) !== '') lastWords = i;
  });
  const step = messages.slice(lastWords + 1).filter((m) => m.role === 'assistant').length;
  return {
    model: body.model,
    messages,
    tools: body.tools ?? [],
    lastUserText: userTexts[userTexts.length - 1] ?? '',
    step,
    userTexts,
  };
}

function isPart(part: unknown, type: string): boolean {
  return typeof part === 'object' && part !== null && (part as { type?: unknown }).type === type;
}

/** The user's own words in a message: text parts, minus the CLI's injected `<system-reminder>` blocks. */
function userText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part) => isPart(part, 'text'))
    .map((part) => String((part as { text: unknown }).text))
    .filter((text) => !text.startsWith('<system-reminder>'))
    .join('\n');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const USAGE = { input_tokens: 100, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

/** The Messages API's SSE sequence: message_start, one start/delta…/stop per block, message_delta, message_stop. */
async function streamMessage(
  res: ServerResponse,
  id: number,
  model: string,
  blocks: Block[],
  stopReason: 'end_turn' | 'tool_use',
  slow = false,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send('message_start', {
    type: 'message_start',
    message: {
      id: `msg_fake_${id}`,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...USAGE, output_tokens: 1 },
    },
  });
  for (const [index, block] of blocks.entries()) {
    if (block.type === 'text') {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const word of block.text.split(/(?<= )/)) {
        if (slow) await new Promise((resolve) => setTimeout(resolve, 150));
        send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: word } });
      }
    } else {
      const toolId = `toolu_fake_${id}_${index}`;
      send('content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: toolId, name: block.name, input: {} },
      });
      const partial = JSON.stringify(block.input);
      const half = Math.floor(partial.length / 2);
      for (const piece of [partial.slice(0, half), partial.slice(half)]) {
        send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
      }
    }
    send('content_block_stop', { type: 'content_block_stop', index });
  }
  send('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: USAGE.output_tokens },
  });
  send('message_stop', { type: 'message_stop' });
  res.end();
}
