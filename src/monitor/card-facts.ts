import type { Usage } from '../executors/index.js';
import type { Message } from '../opencode/schemas.js';
import type { CardTool, CardUsage } from './card.js';

/**
 * What a card shows, read from what the agents report: OpenCode's assistant messages (`tokens`, `cost`, tool
 * parts) and Claude Code's stream-json (`usage`, `total_cost_usd`, tool_use blocks). Pure.
 */

/** Tools that edit the todo list: the checklist already shows what they did. */
const TODO_TOOLS = new Set(['todowrite', 'todoread', 'TodoWrite', 'TaskCreate', 'TaskUpdate', 'TaskList', 'TaskGet']);

/** The one argument that says what a tool call does: the command, the file, the pattern, the URL. */
export function toolArgument(input: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!input) return undefined;
  for (const key of ['command', 'file_path', 'filePath', 'path', 'pattern', 'url', 'query', 'description', 'subject', 'prompt']) {
    const value = input[key];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  if (Array.isArray(input['todos'])) return `${input['todos'].length} todos`;
  return undefined;
}

export function cardTool(name: string | undefined, input: Readonly<Record<string, unknown>> | undefined): CardTool | undefined {
  if (!name || TODO_TOOLS.has(name)) return undefined;
  const argument = toolArgument(input);
  return argument === undefined ? { tool: name } : { tool: name, argument };
}

/** The newest tool call of these (OpenCode) messages, the todo tools aside. */
export function lastOpencodeTool(messages: readonly Message[]): CardTool | undefined {
  for (let m = messages.length - 1; m >= 0; m--) {
    const parts = messages[m]!.parts;
    for (let p = parts.length - 1; p >= 0; p--) {
      const part = parts[p]!;
      if (part.type !== 'tool') continue;
      const tool = cardTool(part.tool, part.state?.input);
      if (tool) return tool;
    }
  }
  return undefined;
}

/**
 * Tokens and cost of a run's assistant messages (one per LLM step), and how full the context was at the
 * newest step. `contextLimit` is the model's, when the server's provider list gives one.
 */
export function opencodeUsage(assistant: readonly Message[], contextLimit?: number): CardUsage | undefined {
  const steps = assistant.filter((m) => m.info.tokens !== undefined || m.info.cost !== undefined);
  if (steps.length === 0) return undefined;
  const usage: CardUsage = { input: 0, output: 0, cached: 0, costUsd: 0 };
  for (const { info } of steps) {
    usage.input += info.tokens?.input ?? 0;
    usage.output += (info.tokens?.output ?? 0) + (info.tokens?.reasoning ?? 0);
    usage.cached += info.tokens?.cache.read ?? 0;
    usage.costUsd! += info.cost ?? 0;
  }
  const newest = [...steps].reverse().find((m) => m.info.tokens && m.info.tokens.input + m.info.tokens.output > 0)?.info.tokens;
  if (newest) usage.contextTokens = newest.input + newest.output + newest.reasoning + newest.cache.read + newest.cache.write;
  if (contextLimit) usage.contextLimit = contextLimit;
  return usage;
}

/** The model the newest step of a run used (`provider/model`), for its context limit. */
export function opencodeModel(assistant: readonly Message[]): { providerID: string; modelID: string } | undefined {
  for (let i = assistant.length - 1; i >= 0; i--) {
    const { providerID, modelID } = assistant[i]!.info;
    if (providerID && modelID) return { providerID, modelID };
  }
  return undefined;
}

/** Claude's usage counts (input excludes the cache; cache reads are `cached`) with its cost when known. */
export function claudeUsage(usage: Usage | null | undefined, costUsd?: number | null): CardUsage | undefined {
  if (!usage) return costUsd === undefined || costUsd === null ? undefined : { input: 0, output: 0, cached: 0, costUsd };
  return {
    input: usage.input_tokens + usage.cache_creation_input_tokens,
    output: usage.output_tokens,
    cached: usage.cache_read_input_tokens,
    ...(costUsd !== undefined && costUsd !== null ? { costUsd } : {}),
  };
}
