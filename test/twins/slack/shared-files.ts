import type { RouteReply } from './http-server.js';

/**
 * Files people share in messages, as Slack keeps them: an event carries each file's metadata and a
 * `url_private_download` on files.slack.com, which serves the bytes only to a request with a valid token as
 * `Authorization: Bearer …` (401 without one). Downloads are recorded so tests can see who fetched what.
 */
export interface ShareFile {
  readonly name: string;
  readonly mimetype: string;
  readonly content: Buffer | string;
  /** What the event declares; defaults to the content's length (a test may make it lie). */
  readonly size?: number;
}

export interface SharedFileRecord {
  readonly id: string;
  readonly name: string;
  readonly mimetype: string;
  readonly size: number;
  readonly content: Buffer;
}

export interface FileDownload {
  readonly fileId: string;
  /** The file's name, when the id is one the twin knows. */
  readonly name: string | undefined;
  readonly authorization: string | undefined;
  readonly status: number;
}

export class SharedFiles {
  private readonly files = new Map<string, SharedFileRecord>();
  readonly downloads: FileDownload[] = [];

  constructor(
    private readonly nextId: () => string,
    private readonly origin: () => string,
    private readonly teamId: string,
    private readonly validTokens: () => readonly string[],
  ) {}

  /** Stores the file and returns the `files` entry Slack puts in message and app_mention events. */
  share(file: ShareFile, user: string, now: number): Record<string, unknown> {
    const content = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
    const record: SharedFileRecord = { id: this.nextId(), name: file.name, mimetype: file.mimetype, size: file.size ?? content.length, content };
    this.files.set(record.id, record);
    const path = `/files-pri/${this.teamId}-${record.id}/download/${encodeURIComponent(record.name)}`;
    return {
      id: record.id,
      created: Math.floor(now / 1000),
      timestamp: Math.floor(now / 1000),
      name: record.name,
      title: record.name,
      mimetype: record.mimetype,
      filetype: record.name.split('.').pop() ?? 'binary',
      pretty_type: record.mimetype,
      user,
      user_team: this.teamId,
      editable: false,
      size: record.size,
      mode: 'hosted',
      is_external: false,
      external_type: '',
      is_public: true,
      public_url_shared: false,
      display_as_bot: false,
      username: '',
      url_private: `${this.origin()}${path.replace('/download/', '/')}`,
      url_private_download: `${this.origin()}${path}`,
      permalink: `${this.origin()}/files/${user}/${record.id}/${encodeURIComponent(record.name)}`,
      media_display_type: 'unknown',
      has_rich_preview: false,
      file_access: 'visible',
    };
  }

  /** `GET /files-pri/<team>-<file>[/download]/<name>`: the bytes, for a valid bot or user token only. */
  serve(teamAndFile: string, authorization: string | undefined): RouteReply {
    const fileId = teamAndFile.slice(this.teamId.length + 1);
    const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const record = this.files.get(fileId);
    const status = !bearer || !this.validTokens().includes(bearer) ? 401 : record ? 200 : 404;
    this.downloads.push({ fileId, name: record?.name, authorization, status });
    if (status === 401) return { status, body: 'Unauthorized' };
    if (!record) return { status, body: 'Not Found' };
    return { status, headers: { 'content-type': record.mimetype, 'content-length': String(record.content.length) }, body: record.content };
  }
}
