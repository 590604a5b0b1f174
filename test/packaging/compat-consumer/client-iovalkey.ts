import { Valkey } from 'iovalkey';

/** The `redis` option of the iovalkey row: the user's own iovalkey client, passed as it is (no cast). */
export function redisOption(url: string | undefined): { option: Valkey; close: () => Promise<void> } {
  // The matrix starts its own redis-server and passes its URL: never a default port.
  if (url === undefined) throw new Error('REDIS_URL is not set');
  const client = new Valkey(url);
  return { option: client, close: async () => void (await client.quit()) };
}
