import { Controller, type MessageEvent, Param, Sse } from '@nestjs/common';
import { Observable, interval, map, take } from 'rxjs';
import { WithLock } from '../lib';

@Controller('feed')
export class FeedController {
  /**
   * Server-sent events: the lock is held for as long as the stream runs (about 5 s) and released
   * when it completes or the client disconnects. A second subscriber to the channel gets 409.
   */
  @Sse(':channel')
  @WithLock('feed:{channel}', { ttl: 3_000, wait: 0 })
  stream(@Param('channel') channel: string): Observable<MessageEvent> {
    return interval(1_000).pipe(
      take(5),
      map((tick) => ({ data: { channel, tick } })),
    );
  }
}
