import { z } from 'zod';

/**
 * Replies of the OpenCode server (classic routes, checked against 1.18.33), validated at the edge so the
 * rest of the core works with typed data. Unknown fields are dropped; only what Switchboard reads is listed.
 */
export const healthSchema = z.object({ healthy: z.boolean(), version: z.string().optional() });

export const agentSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  mode: z.enum(['primary', 'subagent', 'all']).or(z.string()),
  hidden: z.boolean().optional(),
});
export type Agent = z.infer<typeof agentSchema>;

export const sessionSchema = z.object({
  id: z.string(),
  title: z.string().optional(),
  directory: z.string(),
  parentID: z.string().optional(),
  agent: z.string().optional(),
  model: z.object({ id: z.string(), providerID: z.string() }).optional(),
  time: z.object({ created: z.number(), updated: z.number() }),
});
export type Session = z.infer<typeof sessionSchema>;

const errorSchema = z.object({
  name: z.string(),
  data: z.object({ message: z.string().optional() }).loose().optional(),
});
export type MessageError = z.infer<typeof errorSchema>;

/** An assistant message's usage (one LLM step): `cache` is the provider's prompt cache. */
export const tokensSchema = z.object({
  input: z.number().default(0),
  output: z.number().default(0),
  reasoning: z.number().default(0),
  cache: z.object({ read: z.number().default(0), write: z.number().default(0) }).default({ read: 0, write: 0 }),
});
export type Tokens = z.infer<typeof tokensSchema>;

export const messageInfoSchema = z.object({
  id: z.string(),
  sessionID: z.string(),
  role: z.enum(['user', 'assistant']),
  parentID: z.string().optional(),
  agent: z.string().optional(),
  finish: z.string().optional(),
  error: errorSchema.optional(),
  time: z.object({ created: z.number(), completed: z.number().optional() }),
  /** Assistant messages: what the step used and cost (USD, from the model's configured prices). */
  tokens: tokensSchema.optional(),
  cost: z.number().optional(),
  providerID: z.string().optional(),
  modelID: z.string().optional(),
});
export type MessageInfo = z.infer<typeof messageInfoSchema>;

export const partSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    text: z.string().optional(),
    synthetic: z.boolean().optional(),
    tool: z.string().optional(),
    state: z
      .object({ status: z.string(), title: z.string().optional(), error: z.string().optional(), input: z.record(z.string(), z.unknown()).optional() })
      .loose()
      .optional(),
  })
  .loose();
export type Part = z.infer<typeof partSchema>;

export const messageSchema = z.object({ info: messageInfoSchema, parts: z.array(partSchema) });
export type Message = z.infer<typeof messageSchema>;

export const todoSchema = z.object({
  content: z.string(),
  status: z.string(),
  priority: z.string().optional(),
});
export type Todo = z.infer<typeof todoSchema>;

export const sessionStatusSchema = z.object({ type: z.string() }).loose();
export const statusMapSchema = z.record(z.string(), sessionStatusSchema);

export const permissionSchema = z.object({
  id: z.string(),
  sessionID: z.string(),
  permission: z.string(),
  patterns: z.array(z.string()).default([]),
  metadata: z.record(z.string(), z.unknown()).optional(),
  always: z.array(z.string()).optional(),
});
export type PermissionRequest = z.infer<typeof permissionSchema>;

export const questionSchema = z.object({
  id: z.string(),
  sessionID: z.string(),
  questions: z.array(
    z.object({
      question: z.string(),
      header: z.string().optional(),
      options: z.array(z.object({ label: z.string(), description: z.string().optional() })).default([]),
      multiple: z.boolean().optional(),
    }),
  ),
});
export type QuestionRequest = z.infer<typeof questionSchema>;

/** A model's limits, where the provider's catalogue knows them (`context` is what the card's context % needs). */
const modelSchema = z.object({ limit: z.object({ context: z.number().optional() }).loose().optional() }).loose();

export const providersSchema = z.object({
  providers: z.array(z.object({ id: z.string(), models: z.record(z.string(), modelSchema) })),
});

/** The two error shapes the server uses, plus the bare ones. */
export const errorBodySchema = z
  .object({
    name: z.string().optional(),
    _tag: z.string().optional(),
    message: z.string().optional(),
    data: z.object({ message: z.string().optional() }).loose().optional(),
  })
  .loose();
