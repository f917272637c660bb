import { reply, text, type Reply, type Tone } from '../core/reply.js';
import { createScrubber, type Scrubber } from '../core/scrub.js';
import { firstLine, formatDuration } from '../core/format.js';
import { summarize, TODO_MARK, todoFraction } from '../opencode/turns.js';
import { assessBudget, compactDuration, hasLimits, type BudgetKind, type BudgetLimits } from '../budgets/limits.js';

/**
 * The live run card: one message per run, edited in place as the run goes (the delivery layer coalesces and
 * rate-limits the edits). Everything here is pure: a CardState in, a Reply out, so the same state always
 * renders the same text (the sink skips edits that change nothing) and the limits are unit-tested.
 */

export type CardPhase =
  | 'queued'
  | 'working'
  | 'approval'
  | 'question'
  | 'stalled'
  | 'retrying'
  | 'finished'
  | 'failed';

export interface CardTodo {
  content: string;
  status: string;
}

export interface CardTool {
  tool: string;
  /** The tool's main argument (a command, a path), as the agent gave it; scrubbed and cut here. */
  argument?: string;
}

export interface CardUsage {
  input: number;
  output: number;
  /** Tokens read from the provider's prompt cache. */
  cached: number;
  costUsd?: number;
  /** Tokens in the model's context at the newest step, and the model's limit when the server knows it. */
  contextTokens?: number;
  contextLimit?: number;
}

export interface CardState {
  name: string;
  phase: CardPhase;
  /** When the run began (ms); elapsed time is measured from here. */
  startedAt: number;
  /** When the run ended (final phases): the elapsed time stops there. */
  endedAt?: number;
  todos: readonly CardTodo[];
  tool?: CardTool;
  /** The newest assistant text. */
  text?: string;
  /** Shell tasks: the newest line of output. */
  lastLine?: string;
  usage?: CardUsage;
  /** The schedule that started this run (`schedule #3 · every 6h · next …`). */
  schedule?: string;
  /** The git branch of the worktree the run works in (`--worktree`). */
  branch?: string;
  /** Prompts waiting for this name, oldest first. */
  queued?: readonly { actor: string }[];
  /** What the phase is about: the retry message, why it failed, how long it has been quiet. */
  detail?: string;
  /** The limits of this run (`budget`): the card shows the use against each, with a warning past 80 %. */
  budget?: BudgetLimits;
}

export interface CardLimits {
  /** Todo items shown before the list is cut around the active one. */
  maxTodos: number;
  todoChars: number;
  toolChars: number;
  textChars: number;
  lineChars: number;
}

export const CARD_LIMITS: CardLimits = { maxTodos: 12, todoChars: 100, toolChars: 60, textChars: 200, lineChars: 120 };

const PHASE: Record<CardPhase, { words: string; tone: Tone }> = {
  queued: { words: 'queued ⏸️', tone: 'info' },
  working: { words: 'working', tone: 'info' },
  approval: { words: 'waiting for approval 🔐', tone: 'warning' },
  question: { words: 'asking a question ❓', tone: 'warning' },
  stalled: { words: 'stalled ⏳', tone: 'warning' },
  retrying: { words: 'retrying ↻', tone: 'warning' },
  finished: { words: 'finished ✅', tone: 'success' },
  failed: { words: 'failed ❌', tone: 'error' },
};

const patternScrub = createScrubber([]);

export function isFinalPhase(phase: CardPhase): boolean {
  return phase === 'finished' || phase === 'failed';
}

/** 950, 3.2k, 41k, 1.2M: tokens at a glance. */
export function formatTokens(count: number): string {
  const n = Math.max(0, Math.round(count));
  if (n < 1_000) return String(n);
  if (n < 10_000) return `${trimZero((n / 1_000).toFixed(1))}k`;
  if (n < 1_000_000) return `${Math.round(n / 1_000)}k`;
  return `${trimZero((n / 1_000_000).toFixed(1))}M`;
}

export function formatCost(usd: number): string {
  if (usd > 0 && usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

function trimZero(value: string): string {
  return value.endsWith('.0') ? value.slice(0, -2) : value;
}

/** One line, at most `max` characters (an ellipsis marks the cut). */
function clip(value: string, max: number): string {
  const line = value.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1).trimEnd()}…` : line;
}

/** `bash: npm test`. Scrubbed before it is cut: a cut secret no longer looks like one. */
export function toolLine(tool: CardTool, scrub: Scrubber, max: number): string {
  const argument = tool.argument ? clip(firstLine(scrub(tool.argument), 4 * max), max) : '';
  return `🔧 ${clip(tool.tool, 40)}${argument ? `: ${argument}` : ''}`;
}

/**
 * The checklist, whole when it fits; a long one keeps the items around the first open one and counts the
 * rest, so the card stays one screen and still says where the run is.
 */
export function todoLines(
  todos: readonly CardTodo[],
  limits: Pick<CardLimits, 'maxTodos' | 'todoChars'>,
  scrub: Scrubber = patternScrub,
  activeSuffix = '',
): string[] {
  const line = (todo: CardTodo, i: number) => `${TODO_MARK[todo.status] ?? '🔲'} ${clip(scrub(todo.content), limits.todoChars)}${i === activeIndex ? activeSuffix : ''}`;
  const activeIndex = todos.findIndex((t) => t.status === 'in_progress');
  const max = Math.max(3, limits.maxTodos);
  if (todos.length <= max) return todos.map(line);
  const open = todos.findIndex((t) => t.status !== 'completed' && t.status !== 'cancelled');
  const firstOpen = activeIndex >= 0 ? activeIndex : open >= 0 ? open : todos.length;
  // A line goes to the count of each side left out; two done items stay above the open one for context.
  let room = max - 2;
  let start = Math.min(Math.max(0, firstOpen - 2), todos.length - room);
  if (start === 0 || start + room >= todos.length) {
    room = max - 1;
    if (start > 0) start = todos.length - room;
  }
  const end = start + room;
  const out: string[] = [];
  if (start > 0) out.push(`… ${start} earlier (${counts(todos.slice(0, start))})`);
  for (let i = start; i < end; i++) out.push(line(todos[i]!, i));
  if (end < todos.length) out.push(`… ${todos.length - end} more (${counts(todos.slice(end))})`);
  return out;
}

function counts(todos: readonly CardTodo[]): string {
  const by = new Map<string, number>();
  for (const todo of todos) {
    const mark = TODO_MARK[todo.status] ?? '🔲';
    by.set(mark, (by.get(mark) ?? 0) + 1);
  }
  return [...by].map(([mark, n]) => `${mark} ${n}`).join(' · ');
}

export function usageLine(usage: CardUsage): string {
  const parts = [`tokens ${formatTokens(usage.input)} in`, `${formatTokens(usage.output)} out`];
  if (usage.cached > 0) parts.push(`${formatTokens(usage.cached)} cached`);
  if (usage.costUsd !== undefined) parts.push(formatCost(usage.costUsd));
  if (usage.contextLimit && usage.contextTokens !== undefined) {
    parts.push(`context ${Math.min(100, Math.round((100 * usage.contextTokens) / usage.contextLimit))}%`);
  }
  return parts.join(' · ');
}

const BUDGET_WORD: Record<BudgetKind, string> = { cost: 'cost', tokens: 'tokens', time: 'time' };

/**
 * `budget $0.85 / $1.00 · 41k / 400k tokens · 12m / 15m`; past 80 % of a limit the line starts with ⚠️ and
 * says which. A cost the agent has not reported yet (a Claude task reports it at the end) shows as `?`.
 */
export function budgetLine(limits: BudgetLimits, usage: CardUsage | undefined, elapsedMs: number): string | undefined {
  if (!hasLimits(limits)) return undefined;
  const tokens = usage ? tokenTotal(usage) : 0;
  const cost = usage?.costUsd;
  const parts: string[] = [];
  if (limits.costUsd !== undefined) parts.push(`${cost !== undefined ? formatCost(cost) : '$?'} / ${formatCost(limits.costUsd)}`);
  if (limits.tokens !== undefined) parts.push(`${formatTokens(tokens)} / ${formatTokens(limits.tokens)} tokens`);
  if (limits.timeMs !== undefined) parts.push(`${compactDuration(elapsedMs)} / ${compactDuration(limits.timeMs)}`);
  const { near } = assessBudget(limits, { tokens, ...(cost !== undefined ? { costUsd: cost } : {}), elapsedMs });
  const line = `budget ${parts.join(' · ')}`;
  if (near.length === 0) return line;
  const shares = near.map((n) => `${BUDGET_WORD[n.kind]} at ${Math.min(999, Math.floor(n.share * 100))} %`).join(', ');
  return `⚠️ ${line} (${shares})`;
}

export function queueLine(queued: readonly { actor: string }[]): string | undefined {
  if (queued.length === 0) return undefined;
  const who = [...new Set(queued.map((q) => q.actor))];
  return `${queued.length} prompt${queued.length === 1 ? '' : 's'} queued (${who.join(', ')})`;
}

/** Total tokens of a run, for the final output's header (`118k tokens`). */
export function tokenTotal(usage: CardUsage): number {
  return usage.input + usage.output + usage.cached;
}

/** The facts a final output adds to its header: `118k tokens`, `$1.07`. */
export function usageFacts(usage: CardUsage | undefined): string[] {
  if (!usage) return [];
  const facts: string[] = [];
  const total = tokenTotal(usage);
  if (total > 0) facts.push(`${formatTokens(total)} tokens`);
  if (usage.costUsd !== undefined) facts.push(formatCost(usage.costUsd));
  return facts;
}

export function renderCard(state: CardState, now: number, options: { scrub?: Scrubber; limits?: Partial<CardLimits> } = {}): Reply {
  const scrub = options.scrub ?? patternScrub;
  const limits = { ...CARD_LIMITS, ...options.limits };
  const final = isFinalPhase(state.phase);
  const phase = PHASE[state.phase];
  const elapsed = formatDuration((final && state.endedAt !== undefined ? state.endedAt : now) - state.startedAt);
  const head = [`⚙️ **${state.name}**`, final ? `${phase.words} ${elapsed}` : phase.words];
  if (!final) head.push(elapsed);
  if (state.todos.length) head.push(`todo ${todoFraction(state.todos)}`);
  const lines = [head.join(' · ')];

  const tool = !final && state.tool ? toolLine(state.tool, scrub, limits.toolChars) : undefined;
  const hasActive = state.todos.some((t) => t.status === 'in_progress');
  lines.push(...todoLines(state.todos, limits, scrub, tool && hasActive ? `   ${tool}` : ''));
  if (tool && !hasActive) lines.push(tool);
  // Each field is scrubbed whole before it is cut: a secret cut in half no longer looks like one.
  if (state.detail) lines.push(`${state.phase === 'failed' ? '❌' : '↳'} ${clip(scrub(state.detail), limits.lineChars)}`);
  if (!final && state.lastLine) lines.push(`▸ ${clip(scrub(state.lastLine), limits.lineChars)}`);
  if (!final && state.text) lines.push(`💬 ${summarize(scrub(state.text), limits.textChars)}`);
  if (state.usage) lines.push(usageLine(state.usage));
  const budget = state.budget ? budgetLine(state.budget, state.usage, (final && state.endedAt !== undefined ? state.endedAt : now) - state.startedAt) : undefined;
  if (budget) lines.push(budget);
  if (state.schedule) lines.push(`⏰ ${clip(scrub(state.schedule), limits.lineChars)}`);
  if (state.branch) lines.push(`🌿 ${clip(state.branch, limits.lineChars)}`);
  const queue = state.queued ? queueLine(state.queued) : undefined;
  if (queue) lines.push(queue);
  return reply([text(lines.join('\n'))], { tone: phase.tone, data: { card: state.name, phase: state.phase } });
}
