import { expect } from 'vitest';

/**
 * Nest commits an @Sse route's 200 headers one macrotask after subscribing, so a busy lock is
 * answered with 409 only when the acquire settles before that (the memory store); otherwise the
 * stream carries one `error` event with the 409 message and ends. Either way no data is sent.
 */
export async function expectBusyStream(response: Response, lock: string): Promise<void> {
  if (response.status === 409) {
    expect(await response.json()).toMatchObject({ statusCode: 409, lock });
    return;
  }
  expect(response.status).toBe(200);
  const text = await response.text();
  expect(text).toMatch(/event: error/);
  expect(text).toContain(`Lock "${lock}" is held by another owner`);
  expect(text).not.toMatch(/^data: (?!Lock)/m);
}
