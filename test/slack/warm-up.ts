/**
 * One blocking prompt on a fresh `opencode serve`. Its first turn loads the provider package and is slow (many
 * seconds on a busy machine); paying that here means the tests time Switchboard, not a cold start.
 */
export async function warmUp(serverUrl: string): Promise<void> {
  const json = { 'content-type': 'application/json' };
  const created = await fetch(`${serverUrl}/session`, { method: 'POST', headers: json, body: JSON.stringify({ title: 'warm-up' }) });
  if (!created.ok) throw new Error(`warm-up: POST /session answered ${created.status}`);
  const { id } = (await created.json()) as { id: string };
  const reply = await fetch(`${serverUrl}/session/${id}/message`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ parts: [{ type: 'text', text: 'warm up' }] }),
  });
  if (!reply.ok) throw new Error(`warm-up: POST /session/${id}/message answered ${reply.status}: ${await reply.text()}`);
  await reply.text();
}
