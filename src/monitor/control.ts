/** What commands may ask of the monitor. The monitor implements it; commands never see its internals. */
export interface WatchRequest {
  name: string;
  /** Interval text (`5m`, a cron expression); the configured default when absent. */
  interval?: string;
  /** The prompt whose ending should be reported (set by `send`). */
  promptId?: number;
  /** Who sent that prompt: they (or an admin) may answer its permission requests. */
  sender?: string;
  /** When the prompt was sent: replies older than this belong to earlier work. */
  since?: number;
}

export interface WatchInfo {
  name: string;
  interval: string;
  promptId?: number;
  sender?: string;
}

export interface MonitorControl {
  watch(request: WatchRequest): WatchInfo;
  unwatch(name: string): boolean;
  watching(name: string): WatchInfo | undefined;
  /**
   * Before a prompt goes to an OpenCode name: opens (or keeps) its server's event stream and resolves once it
   * relays, or after a bounded wait; so every event of the run arrives, even when no stream was open.
   */
  prepare(name: string): Promise<void>;
}
