/** Polls `check` until it is truthy or `timeout` ms pass; bounded, never spins forever. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeout = 5_000, every = 10): Promise<void> {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(every);
  }
  throw new Error(`Condition not met within ${timeout} ms`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Timers and sockets alive in this process: what a closed module must not leave behind. */
export function timersAndSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPSocketWrap').length;
}
