import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  HttpCode,
  Injectable,
  NotFoundException,
  Param,
  Post,
  SetMetadata,
  Sse,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable, interval, map, take } from 'rxjs';
import { LockService, WithLock, requestKey } from '../../lib';
import { ExclusionProbe } from './exclusion-probe';

/** Lets a test decide when a handler finishes: handlers await `gates.wait(name)`. */
export class Gates {
  private readonly open = new Map<string, () => void>();
  private readonly pending = new Map<string, Promise<void>>();
  wait(name: string): Promise<void> {
    if (!this.pending.has(name)) this.pending.set(name, new Promise((resolve) => this.open.set(name, resolve)));
    return this.pending.get(name)!;
  }
  release(name: string): void {
    this.wait(name);
    this.open.get(name)!();
  }
}

export const state = {
  gates: new Gates(),
  /** The exclusion probe of the counter route. */
  probe: new ExclusionProbe(),
  ran: [] as string[],
};

export function resetState(): void {
  state.gates = new Gates();
  state.probe.reset();
  state.ran = [];
}

/** Sets req.user from a header, as an auth guard would; records a role read through Reflector. */
@Injectable()
export class FakeAuthGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest();
    request.user = { id: request.headers['x-user'] };
    const role = this.reflector.get<string | undefined>('role', context.getHandler());
    if (role) state.ran.push(`role:${role}`);
    return true;
  }
}

@Controller('orders')
@UseGuards(FakeAuthGuard)
export class OrdersController {
  constructor(private readonly locks: LockService) {}

  @Post(':id/pay')
  @WithLock('order:{id}', { wait: 0 })
  async pay(@Param('id') id: string) {
    state.ran.push(`pay:${id}`);
    await state.gates.wait(`pay:${id}`);
    return { paid: id, locked: await this.locks.isLocked(`order:${id}`) };
  }

  // @WithLock above the route decorator: metadata applied before wrapping must survive.
  @WithLock('counter', { wait: 20_000 })
  @Post('counter')
  async increment() {
    return { counter: await state.probe.increment() };
  }

  @Get('missing/:id')
  @WithLock('missing:{id}')
  missing(@Param('id') id: string) {
    throw new NotFoundException(`order ${id} not found`);
  }

  @Post('cart')
  @WithLock(requestKey((request: { user: { id: string } }) => `cart:${request.user.id}`))
  async cart() {
    return { held: await this.locks.isLocked('cart:u1') };
  }

  @Post('transfer')
  @WithLock(['account:{body.from}', 'account:{body.to}'])
  async transfer() {
    return { from: await this.locks.isLocked('account:a'), to: await this.locks.isLocked('account:b') };
  }

  @WithLock('meta', 1_000)
  @SetMetadata('role', 'admin')
  @HttpCode(202)
  @Get('meta')
  meta() {
    return { name: OrdersController.prototype.meta.name };
  }

  @Post('slow/:id')
  @WithLock('slow:{id}', { wait: 10_000 })
  slow(@Param('id') id: string) {
    state.ran.push(`slow:${id}`);
    return { id };
  }

  @Sse('stream/:id')
  @WithLock('stream:{id}', { wait: 0 })
  stream(@Param('id') id: string): Observable<{ data: string }> {
    return interval(60).pipe(
      take(5),
      map((i) => ({ data: `${id}-${i}` })),
    );
  }

  @Sse('endless/:id')
  @WithLock('endless:{id}', { wait: 0 })
  endless(@Param('id') id: string): Observable<{ data: string }> {
    return interval(30).pipe(map((i) => ({ data: `${id}-${i}` })));
  }
}
