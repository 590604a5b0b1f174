import { Valkey } from 'iovalkey';

/** The `redis` option of the iovalkey row: the user's own iovalkey client, passed as it is (no cast). */
export function redisOption(url: string | undefined): { option: Valkey; close: () => Promise<void> } {
  const client = new Valkey(url ?? 'redis://127.0.0.1:6379');
  return { option: client, close: async () => void (await client.quit()) };
}
