import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestLog } from '../requests.js';

/**
 * A scripted OpenAI-compatible chat-completions server for the real `opencode` binary. What it answers is
 * chosen by markers in the latest user message, so a test says what the agent should do in the prompt itself:
 *
 *   TODO       → a `todowrite` call (two done, one in progress, one pending), then the final text
 *   BASH       → a `bash` call (`echo hi-from-bash`), then the final text (the permission flow when bash is "ask")
 *   QUESTION   → a `question` call (QUESTIONS2: two questions at once, the second with several choices allowed)
 *   HOLD:<key> → the reply waits until the test calls `release(key)` (deterministic "busy" windows)
 *   HOLDAFTER:<key> → like HOLD, but only the final text after a tool result waits (todos are out, still busy)
 *   TODOTWICE:<key> → after the first todo list, waits for `release(key)`, then a second `todowrite` (three done,
 *                   the last in progress): a todo change in the middle of a run
 *   SLOW       → 150 ms between streamed words
 *   WAIT:<ms>  → each agent request is answered after <ms> (a run that lasts, for the chaos bench to hit mid-run)
 *   BADREQ     → HTTP 400 (an agent error reply)
 *   BIG:<n>    → a final text of about n bytes: numbered lines, then `END-OF-BIG` (a 1 MB final)
 *   LEAK       → a final text that prints `LEAKED_SECRETS` (token-shaped), as an agent that read a .env would
 *   SECRETS:<key> → every secret in its todo, its tool arguments and its output: a `todowrite` of `LEAKED_SECRETS`,
 *                   `PEM_KEY` and `leakAlso`; a `bash` call printing them and `$OPENCODE_SERVER_PASSWORD` (the
 *                   server's own password, which the model cannot know); a second `todowrite` carrying what bash
 *                   printed; then, after `release(key)`, a final text with all of it (see `secretScript`)
 *   anything else → the final text `Done: <first line of the prompt>`
 *
 * Title-generation requests (no tools) get "Fake title". After a tool result, the final text is streamed.
 */
export interface FakeLlm {
  baseUrl: string;
  requests: ChatRequest[];
  release(key: string): void;
  /** Resolves when a request whose last user text includes `marker` arrives (already-arrived ones count). */
  waitForRequest(marker: string, timeoutMs?: number): Promise<ChatRequest>;
  /** More secrets the SECRETS script writes (a configured server password the test knows). */
  leakAlso: string[];
  close(): Promise<void>;
}

export interface ChatRequest {
  messages: Array<{ role: string; content: unknown; tool_calls?: unknown }>;
  tools?: unknown[];
  lastUserText: string;
  /**
   * What the model was given in the latest user message, part by part, as OpenCode sent it: text (a text file
   * attached to the prompt arrives as text), and images as their data URLs (`image_url` content).
   */
  lastUserParts: SeenPart[];
  afterToolResult: boolean;
}

export type SeenPart = { type: 'text'; text: string } | { type: 'image'; url: string } | { type: 'other'; raw: unknown };

/** Token-shaped strings the LEAK answer prints; assembled from parts so secret scanners leave this file alone. */
export const LEAKED_SECRETS: readonly string[] = [
  ['gh', 'p_', 'Zq7Xw2Lm9Kp4Rt6Yv8Bn3Cs5Df1Gh0Jk2Ll4'].join(''),
  ['xo', 'xb-', '1234567890123-', '9876543210987-', 'AbCdEfGhIjKlMnOpQrStUvWx'].join(''),
  ['AK', 'IA', 'QW3RTY7UIOP2ASDF'].join(''),
];

/** A private key block, multi-line, as an agent that read `~/.ssh` would print it (assembled from parts, as above). */
export const PEM_KEY = [
  ['-----BEGIN', ' OPENSSH PRIVATE KEY-----'].join(''),
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  'QyNTUxOQAAACDx3vQ5cH2m9Kp4Rt6Yv8Bn3Cs5Df1Gh0Jk2Ll4Zq7Xw2AAAAJgAAAAAAAA',
  ['-----END', ' OPENSSH PRIVATE KEY-----'].join(''),
].join('\n');

/** What of PEM_KEY must never show: its body lines (the armour lines alone are no secret). */
export const PEM_BODY_LINES: readonly string[] = PEM_KEY.split('\n').slice(1, -1);

const TODOS = [
  { content: 'Read the failing test', status: 'completed', priority: 'high' },
  { content: 'Find the bug in parse()', status: 'completed', priority: 'high' },
  { content: 'Fix parse() and run the tests', status: 'in_progress', priority: 'medium' },
  { content: 'Update the changelog', status: 'pending', priority: 'low' },
];

const TODOS_NEXT = TODOS.map((todo, i) => ({ ...todo, status: i < 3 ? 'completed' : 'in_progress' }));

export async function startFakeLlm(): Promise<FakeLlm> {
  const log = createRequestLog<ChatRequest>('fake llm');
  const requests = log.requests;
  const gates = new Map<string, () => void>();
  const released = new Set<string>();
  const leakAlso: string[] = [];

  const waitGate = (key: string) =>
    released.has(key) ? Promise.resolve() : new Promise<void>((resolve) => gates.set(key, resolve));

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(error) } }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `fake llm: no route ${req.method} ${req.url}` } }));
      return;
    }
    const parsed = JSON.parse(body) as { messages: ChatRequest['messages']; tools?: unknown[] };
    const request = describe(parsed);
    log.record(request);

    if (!request.tools || request.tools.length === 0) return streamText(res, 'Fake title');
    const text = request.lastUserText;
    const hold = /HOLD:([\w-]+)/.exec(text);
    if (hold?.[1] && !request.afterToolResult) await waitGate(hold[1]);
    const wait = /WAIT:(\d+)/.exec(text);
    if (wait?.[1]) await new Promise((resolve) => setTimeout(resolve, Number(wait[1])));
    if (text.includes('BADREQ')) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'fake invalid request: context too long', type: 'invalid_request_error' } }));
      return;
    }
    const slow = text.includes('SLOW');
    const twice = /TODOTWICE:([\w-]+)/.exec(text);
    if (twice?.[1] && request.afterToolResult && request.messages.filter((m) => m.role === 'tool').length === 1) {
      await waitGate(twice[1]);
      return streamToolCall(res, 'todowrite', { todos: TODOS_NEXT });
    }
    const secrets = /SECRETS:([\w-]+)/.exec(text);
    if (secrets?.[1]) {
      const step = secretScript(request, [...LEAKED_SECRETS, PEM_KEY, ...leakAlso]);
      if (step.kind === 'tool') return streamToolCall(res, step.name, step.args);
      await waitGate(secrets[1]);
      return streamText(res, step.text);
    }
    const holdAfter = /HOLDAFTER:([\w-]+)/.exec(text);
    if (holdAfter?.[1] && request.afterToolResult) await waitGate(holdAfter[1]);
    if (request.afterToolResult) return streamText(res, finalText(text), slow);
    if (text.includes('TODO')) return streamToolCall(res, 'todowrite', { todos: TODOS });
    if (text.includes('BASH')) return streamToolCall(res, 'bash', { command: 'echo hi-from-bash', description: 'Say hi' });
    if (text.includes('QUESTION')) {
      const colour = {
        question: 'Which color?',
        header: 'Color',
        options: [
          { label: 'Red', description: 'warm' },
          { label: 'Blue', description: 'cool' },
        ],
      };
      const sizes = { question: 'Which sizes?', header: 'Sizes', multiple: true, options: [{ label: 'S', description: 'small' }, { label: 'M', description: 'medium' }, { label: 'L', description: 'large' }] };
      return streamToolCall(res, 'question', { questions: text.includes('QUESTIONS2') ? [colour, sizes] : [colour] });
    }
    return streamText(res, finalText(text), slow);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    release(key) {
      released.add(key);
      gates.get(key)?.();
      gates.delete(key);
    },
    waitForRequest: (marker, timeoutMs) => log.waitFor(marker, timeoutMs),
    leakAlso,
    async close() {
      for (const open of gates.values()) open();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type ScriptStep = { kind: 'tool'; name: string; args: unknown } | { kind: 'text'; text: string };

/** The SECRETS script: which step comes next is how many tool results the run has had. */
function secretScript(request: ChatRequest, secrets: readonly string[]): ScriptStep {
  const results = request.messages.filter((m) => m.role === 'tool');
  const printed = contentText(results[1]?.content).trim();
  switch (results.length) {
    case 0:
      return { kind: 'tool', name: 'todowrite', args: { todos: secrets.map((secret, i) => ({ content: `Rotate ${secret}`, status: i === 0 ? 'in_progress' : 'pending', priority: 'high' })) } };
    case 1: {
      const quoted = secrets.map((secret) => `'${secret}'`).join(' ');
      return { kind: 'tool', name: 'bash', args: { command: `printf '%s\\n' ${quoted} "$OPENCODE_SERVER_PASSWORD"`, description: 'Print the keys' } };
    }
    case 2:
      return { kind: 'tool', name: 'todowrite', args: { todos: [{ content: `Rotate what bash printed: ${printed}`, status: 'in_progress', priority: 'high' }] } };
    default:
      return { kind: 'text', text: `Found these keys:\n${secrets.join('\n')}\nThe server said:\n${printed}` };
  }
}

function finalText(prompt: string): string {
  const firstLine = prompt.split('\n')[0] ?? '';
  const big = /BIG:(\d+)/.exec(firstLine);
  if (big?.[1]) return bigText(Number(big[1]));
  if (firstLine.includes('LEAK')) return `Found these in .env:\n${LEAKED_SECRETS.map((secret) => `- ${secret}`).join('\n')}`;
  return `Done: ${firstLine}`;
}

/** About `bytes` of numbered 100-byte lines; a space ends every 100th, so the text streams in ~10 KB chunks. */
function bigText(bytes: number): string {
  const lines: string[] = [];
  for (let i = 0; i * 100 < bytes; i++) lines.push(`line-${String(i).padStart(7, '0')}-${'x'.repeat(86)}${i % 100 === 99 ? ' ' : '.'}`);
  return `${lines.join('\n')}\nEND-OF-BIG`;
}

function describe(body: { messages: ChatRequest['messages']; tools?: unknown[] }): ChatRequest {
  const messages = body.messages ?? [];
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const last = messages[messages.length - 1];
  return {
    messages,
    ...(body.tools ? { tools: body.tools } : {}),
    lastUserText: contentText(lastUser?.content),
    lastUserParts: contentParts(lastUser?.content),
    afterToolResult: last?.role === 'tool',
  };
}

function contentParts(content: unknown): SeenPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  return content.map((part: unknown): SeenPart => {
    const p = part as { type?: string; text?: unknown; image_url?: { url?: unknown } | string };
    if (p?.type === 'text' && typeof p.text === 'string') return { type: 'text', text: p.text };
    if (p?.type === 'image_url') {
      const url = typeof p.image_url === 'string' ? p.image_url : p.image_url?.url;
      if (typeof url === 'string') return { type: 'image', url };
    }
    return { type: 'other', raw: part };
  });
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === 'object' && part && 'text' in part ? String((part as { text: unknown }).text) : ''))
      .join('\n');
  }
  return '';
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function startStream(res: ServerResponse): (delta: unknown, finish?: string) => void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
  return (delta, finish) => {
    const chunk = {
      id,
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model: 'fake-model',
      choices: [{ index: 0, delta, finish_reason: finish ?? null }],
    };
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  };
}

function endStream(res: ServerResponse): void {
  const usage = {
    id: 'usage',
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: 'fake-model',
    choices: [],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
  res.write(`data: ${JSON.stringify(usage)}\n\n`);
  res.write('data: [DONE]\n\n');
  res.end();
}

async function streamText(res: ServerResponse, text: string, slow = false): Promise<void> {
  const send = startStream(res);
  send({ role: 'assistant', content: '' });
  const words = text.split(/(?<= )/);
  for (const word of words) {
    if (slow) await new Promise((resolve) => setTimeout(resolve, 150));
    send({ content: word });
  }
  send({}, 'stop');
  endStream(res);
}

function streamToolCall(res: ServerResponse, name: string, args: unknown): void {
  const send = startStream(res);
  send({
    role: 'assistant',
    tool_calls: [
      { index: 0, id: `call_${name}_${Date.now()}`, type: 'function', function: { name, arguments: JSON.stringify(args) } },
    ],
  });
  send({}, 'tool_calls');
  endStream(res);
}

/**
 * How many runs the model was asked for with `marker` in the prompt: requests with tools (an agent turn; the
 * title request has none) that are not the same run continuing after a tool result.
 */
export function promptRuns(llm: Pick<FakeLlm, 'requests'>, marker: string): number {
  return llm.requests.filter((r) => r.tools !== undefined && !r.afterToolResult && r.lastUserText.includes(marker)).length;
}

/** Resolves once a run with `marker` reached the model (the title request for it can come first). */
export async function waitForPromptRun(llm: Pick<FakeLlm, 'requests'>, marker: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (promptRuns(llm, marker) === 0) {
    if (Date.now() > deadline) throw new Error(`no run with ${JSON.stringify(marker)} reached the fake LLM within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
