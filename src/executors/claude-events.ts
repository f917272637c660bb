import { StringDecoder } from 'node:string_decoder';
import { toolArgument } from '../monitor/card-facts.js';

/**
 * Reading Claude Code's `--output-format stream-json --verbose` output (events.jsonl) into what Switchboard
 * needs: the session id, the todo list, the latest assistant text, tool calls still open, API retries, and each
 * attempt's final `result`. Incremental: feed chunks as they arrive; a partial last line waits for the rest.
 * Pure apart from its own state; no I/O.
 *
 * The wrapper writes a marker line `{"type":"switchboard","subtype":"attempt","attempt":N,"at":ms}` before each
 * attempt, so one file holds every attempt and each gets its own summary.
 */

export type TodoStatus = 'pending' | 'in_progress' | 'completed';

export interface Todo {
  content: string;
  status: TodoStatus;
  activeForm?: string;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export interface ClaudeResult {
  subtype: string;
  isError: boolean;
  /** completed | max_turns | api_error | … (absent in older CLIs). */
  terminalReason: string | null;
  apiErrorStatus: number | null;
  result: string | null;
  totalCostUsd: number | null;
  usage: Usage | null;
  numTurns: number | null;
  sessionId: string | null;
}

export interface AttemptSummary {
  attempt: number;
  /** When the wrapper started it (ms since epoch, host clock). */
  startedAt: number | null;
  sessionId: string | null;
  model: string | null;
  result: ClaudeResult | null;
  /** Summed over distinct assistant messages: what an attempt without a `result` (a crash) still cost. */
  usage: Usage;
  /** tool_use ids with no tool_result yet. */
  openToolCalls: string[];
  apiRetries: number;
  events: number;
}

export interface ClaudeEventsState {
  sessionId: string | null;
  todos: Todo[];
  lastAssistantText: string | null;
  /** The newest top-level tool call (what the run card shows as the last tool). */
  lastTool: { name: string; input: Record<string, unknown> } | null;
  /** The newest event time seen (event timestamps, or the attempt marker), ms since epoch. */
  lastEventAt: number | null;
  attempts: AttemptSummary[];
  /** Lines that were not JSON (kept out of the summary, counted so a broken stream is visible). */
  badLines: number;
}

export interface ClaudeEventsParser {
  feed(chunk: string | Uint8Array): void;
  state(): ClaudeEventsState;
  /** The summary of the given attempt (creating an empty one if none was seen yet). */
  attempt(n: number): AttemptSummary;
}

export function zeroUsage(): Usage {
  return { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}

export function addUsage(a: Usage, b: Partial<Usage> | null | undefined): Usage {
  return {
    input_tokens: a.input_tokens + num(b?.input_tokens),
    output_tokens: a.output_tokens + num(b?.output_tokens),
    cache_creation_input_tokens: a.cache_creation_input_tokens + num(b?.cache_creation_input_tokens),
    cache_read_input_tokens: a.cache_read_input_tokens + num(b?.cache_read_input_tokens),
  };
}

type Json = Record<string, unknown>;

export function createClaudeEventsParser(): ClaudeEventsParser {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const state: ClaudeEventsState = {
    sessionId: null,
    todos: [],
    lastAssistantText: null,
    lastTool: null,
    lastEventAt: null,
    attempts: [],
    badLines: 0,
  };
  // Per attempt: the last usage seen per assistant message id (the CLI repeats a message once per content block).
  const messageUsage = new Map<number, Map<string, Usage>>();
  // The TaskCreate/TaskUpdate task list (this CLI's default todo tool), and creates waiting for their ids.
  const tasks = new Map<string, Todo>();
  const pendingCreates = new Map<string, Todo>();

  function attempt(n: number): AttemptSummary {
    let found = state.attempts.find((a) => a.attempt === n);
    if (!found) {
      found = { attempt: n, startedAt: null, sessionId: null, model: null, result: null, usage: zeroUsage(), openToolCalls: [], apiRetries: 0, events: 0 };
      state.attempts.push(found);
      state.attempts.sort((a, b) => a.attempt - b.attempt);
    }
    return found;
  }

  function current(): AttemptSummary {
    return state.attempts[state.attempts.length - 1] ?? attempt(1);
  }

  function seen(at: unknown): void {
    const t = typeof at === 'number' ? at : typeof at === 'string' ? Date.parse(at) : NaN;
    if (Number.isFinite(t) && (state.lastEventAt === null || t > state.lastEventAt)) state.lastEventAt = t;
  }

  function onEvent(event: Json): void {
    const type = event['type'];
    if (type === 'switchboard') {
      if (event['subtype'] === 'attempt' && typeof event['attempt'] === 'number') {
        const a = attempt(event['attempt']);
        a.startedAt = typeof event['at'] === 'number' ? event['at'] : null;
        // A new attempt restarts these; the earlier attempt's summary stays as it was.
        a.openToolCalls = [];
        a.result = null;
        seen(event['at']);
      }
      return;
    }
    const a = current();
    a.events += 1;
    seen(event['timestamp']);
    const sessionId = str(event['session_id']);
    if (sessionId) {
      state.sessionId = sessionId;
      a.sessionId = sessionId;
    }
    const topLevel = event['parent_tool_use_id'] === null || event['parent_tool_use_id'] === undefined;

    if (type === 'system') {
      if (event['subtype'] === 'init') a.model = str(event['model']);
      if (event['subtype'] === 'api_retry') a.apiRetries += 1;
      return;
    }
    if (type === 'assistant') {
      const message = obj(event['message']);
      const id = str(message?.['id']);
      if (id && message?.['usage']) {
        const perMessage = messageUsage.get(a.attempt) ?? new Map<string, Usage>();
        perMessage.set(id, addUsage(zeroUsage(), message['usage'] as Partial<Usage>));
        messageUsage.set(a.attempt, perMessage);
        a.usage = [...perMessage.values()].reduce(addUsage, zeroUsage());
      }
      for (const block of arr(message?.['content'])) {
        const b = obj(block);
        if (!b) continue;
        if (b['type'] === 'text' && topLevel) {
          const text = str(b['text']);
          if (text && text.trim() !== '') state.lastAssistantText = text;
        } else if (b['type'] === 'tool_use') {
          const toolId = str(b['id']);
          if (toolId && !a.openToolCalls.includes(toolId)) a.openToolCalls.push(toolId);
          if (topLevel) {
            const name = str(b['name']);
            if (name) state.lastTool = { name, input: obj(b['input']) ?? {} };
            onToolUse(name, obj(b['input']) ?? {}, toolId);
          }
        }
      }
      return;
    }
    if (type === 'user') {
      const message = obj(event['message']);
      for (const block of arr(message?.['content'])) {
        const b = obj(block);
        if (!b || b['type'] !== 'tool_result') continue;
        const toolId = str(b['tool_use_id']);
        if (toolId) a.openToolCalls = a.openToolCalls.filter((open) => open !== toolId);
        if (toolId && pendingCreates.has(toolId) && b['is_error'] !== true) {
          const created = obj(obj(event['tool_use_result'])?.['task']);
          const taskId = str(created?.['id']) ?? /^Task #(\S+) created successfully/.exec(resultText(b['content']))?.[1] ?? null;
          const todo = pendingCreates.get(toolId)!;
          pendingCreates.delete(toolId);
          if (taskId) {
            tasks.set(taskId, todo);
            state.todos = [...tasks.values()];
          }
        }
      }
      return;
    }
    if (type === 'result') {
      a.openToolCalls = [];
      a.result = {
        subtype: str(event['subtype']) ?? 'unknown',
        isError: event['is_error'] === true,
        terminalReason: str(event['terminal_reason']),
        apiErrorStatus: typeof event['api_error_status'] === 'number' ? event['api_error_status'] : null,
        result: str(event['result']),
        totalCostUsd: typeof event['total_cost_usd'] === 'number' ? event['total_cost_usd'] : null,
        usage: event['usage'] ? addUsage(zeroUsage(), event['usage'] as Partial<Usage>) : null,
        numTurns: typeof event['num_turns'] === 'number' ? event['num_turns'] : null,
        sessionId: sessionId,
      };
    }
  }

  function onToolUse(name: string | null, input: Json, toolId: string | null): void {
    if (name === 'TodoWrite') {
      state.todos = arr(input['todos']).flatMap((t) => {
        const todo = toTodo(obj(t));
        return todo ? [todo] : [];
      });
    } else if (name === 'TaskCreate' && toolId) {
      const subject = str(input['subject']);
      if (subject) {
        const activeForm = str(input['activeForm']);
        pendingCreates.set(toolId, { content: subject, status: 'pending', ...(activeForm ? { activeForm } : {}) });
      }
    } else if (name === 'TaskUpdate') {
      const taskId = str(input['taskId']);
      if (!taskId) return;
      const status = str(input['status']);
      if (status === 'deleted') tasks.delete(taskId);
      else {
        const before = tasks.get(taskId);
        const subject = str(input['subject']) ?? before?.content ?? taskId;
        const activeForm = str(input['activeForm']) ?? before?.activeForm;
        tasks.set(taskId, {
          content: subject,
          status: isTodoStatus(status) ? status : (before?.status ?? 'pending'),
          ...(activeForm ? { activeForm } : {}),
        });
      }
      state.todos = [...tasks.values()];
    }
  }

  function onLine(line: string): void {
    if (line.trim() === '') return;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      state.badLines += 1;
      return;
    }
    const o = obj(event);
    if (o) onEvent(o);
    else state.badLines += 1;
  }

  return {
    feed(chunk) {
      partial += typeof chunk === 'string' ? chunk : decoder.write(Buffer.from(chunk));
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    },
    state: () => state,
    attempt,
  };
}

/** One pass over a whole text (fixtures, tests). */
export function parseClaudeEvents(text: string): ClaudeEventsState {
  const parser = createClaudeEventsParser();
  parser.feed(text.endsWith('\n') ? text : `${text}\n`);
  return parser.state();
}

/**
 * The human log of a claude task: what it said, which tools it ran, how each attempt ended. events.jsonl is the
 * record; this is how `logs` shows it.
 */
export function renderTranscript(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let event: Json | null;
    try {
      event = obj(JSON.parse(line));
    } catch {
      out.push(line);
      continue;
    }
    if (!event) continue;
    const type = event['type'];
    if (type === 'switchboard' && event['subtype'] === 'attempt') out.push(`── attempt ${String(event['attempt'])} ──`);
    else if (type === 'system' && event['subtype'] === 'init') out.push(`[session ${String(event['session_id'])}, model ${String(event['model'])}]`);
    else if (type === 'system' && event['subtype'] === 'api_retry') {
      out.push(`[API retry ${String(event['attempt'])}: ${String(event['error_status'] ?? event['error'] ?? '')}]`);
    } else if (type === 'assistant') {
      for (const block of arr(obj(event['message'])?.['content'])) {
        const b = obj(block);
        if (b?.['type'] === 'text') out.push(...String(b['text']).split('\n'));
        else if (b?.['type'] === 'tool_use') out.push(`▸ ${String(b['name'])} ${summarizeInput(obj(b['input']) ?? {})}`);
      }
    } else if (type === 'result') {
      const cost = typeof event['total_cost_usd'] === 'number' ? ` $${event['total_cost_usd'].toFixed(4)}` : '';
      out.push(`[result: ${String(event['subtype'])}${event['is_error'] === true ? ' (error)' : ''}, ${String(event['terminal_reason'] ?? '')}${cost}]`);
    }
  }
  return out;
}

function summarizeInput(input: Json): string {
  const command = str(input['command']);
  if (command) return `$ ${command.split('\n')[0]}`;
  return toolArgument(input)?.split('\n')[0] ?? '';
}

function toTodo(o: Json | null): Todo | null {
  const content = str(o?.['content']);
  if (!o || !content) return null;
  const status = str(o['status']);
  const activeForm = str(o['activeForm']);
  return { content, status: isTodoStatus(status) ? status : 'pending', ...(activeForm ? { activeForm } : {}) };
}

function isTodoStatus(s: string | null): s is TodoStatus {
  return s === 'pending' || s === 'in_progress' || s === 'completed';
}

function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  return arr(content)
    .map((part) => str(obj(part)?.['text']) ?? '')
    .join('\n');
}

function obj(v: unknown): Json | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : null;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
