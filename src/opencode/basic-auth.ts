/**
 * The `authorization` header for an OpenCode server's HTTP Basic auth, or undefined for a server without a
 * password. Every request to a server (REST, event stream, a managed server's health check) builds it here.
 */
export function basicAuthorization(credentials: { username: string; password?: string | undefined }): string | undefined {
  if (!credentials.password) return undefined;
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
