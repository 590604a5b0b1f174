import { type AdapterName, createAdapter } from './adapters';
import { holdFor, now, until } from './timing';

/**
 * One process of handoff-two-processes: `callers` callers released together at a shared instant, each taking
 * the one key once (waiting), holding it `holdMs`, releasing and leaving.
 */
type Message =
  | { type: 'prepare'; adapter: AdapterName; url: string }
  | { type: 'run'; key: string; callers: number; holdMs: number; at: number }
  | { type: 'close' };

let adapter: Awaited<ReturnType<typeof createAdapter>> | undefined;

process.on('message', (message: Message) => {
  void handle(message).catch((error: Error) => process.send!({ type: 'error', error: error.message }));
});

async function handle(message: Message): Promise<void> {
  if (message.type === 'prepare') {
    adapter = await createAdapter(message.adapter, message.url);
    await (await adapter.acquire(`warm:${process.pid}`, 10_000, 0)).release(); // connect, load scripts
    process.send!({ type: 'ready' });
  } else if (message.type === 'run') {
    await until(message.at);
    const sections = await Promise.all(
      Array.from({ length: message.callers }, async () => {
        const asked = now();
        try {
          const held = await adapter!.acquire(message.key, 10_000, 30_000);
          const start = now();
          await holdFor(message.holdMs);
          const end = now();
          await held.release();
          return { asked, start, end, failed: false };
        } catch {
          return { asked, start: now(), end: now(), failed: true };
        }
      }),
    );
    process.send!({ type: 'done', sections });
  } else {
    await adapter?.close();
    process.exit(0);
  }
}
