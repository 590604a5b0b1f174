/** The `redis` option of the ioredis rows: a URL, the module creates (and closes) its own client. */
export function redisOption(url: string | undefined): { option: string | undefined; close: () => Promise<void> } {
  return { option: url, close: async () => undefined };
}
