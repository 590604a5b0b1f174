/**
 * Typings of @WithLock key factories, checked by `tsc -p tsconfig.json` (part of `npm test`) and
 * by test/typings.spec.ts: each `@ts-expect-error` must meet an error, or the check fails.
 */
import { Controller, type ExecutionContext, Injectable, Post } from '@nestjs/common';
import type { Request } from 'express';
import { WithLock, requestKey } from '../../../lib';

@Injectable()
export class ProviderMethods {
  @WithLock((id: string) => `order:${id}`)
  async sameTypes(id: string): Promise<string> {
    return id;
  }

  @WithLock((id: string) => `order:${id}`)
  async fewerParametersThanTheMethod(id: string, amount: number): Promise<string> {
    return `${id}:${amount}`;
  }

  @WithLock((from: string, to: string) => [`account:${from}`, `account:${to}`])
  async severalKeys(from: string, to: string): Promise<void> {
    void from;
    void to;
  }

  // @ts-expect-error the factory takes a number, the method a string
  @WithLock((id: number) => `order:${id}`)
  async wrongParameterType(id: string): Promise<string> {
    return id;
  }

  // @ts-expect-error the factory wants a second argument the method never receives
  @WithLock((id: string, tenant: string) => `${tenant}:order:${id}`)
  async extraParameter(id: string): Promise<string> {
    return id;
  }

  // @ts-expect-error a factory that reads a field the argument does not have
  @WithLock((invoice: { id: string }) => `invoice:${invoice.id}`)
  async wrongShape(invoice: { number: number }): Promise<number> {
    return invoice.number;
  }

  @WithLock('invoice:{0}')
  async templatesAreNotChecked(id: string): Promise<string> {
    return id;
  }
}

@Controller('orders')
export class RouteHandlers {
  // A route's factory receives the request, not the handler's arguments: requestKey() says so.
  @Post(':id/pay')
  @WithLock(requestKey((req: Request) => `tenant:${req.headers['x-tenant']}`))
  pay(): string {
    return 'paid';
  }

  @Post('context')
  @WithLock(requestKey((_req: Request, context: ExecutionContext) => `handler:${context.getHandler().name}`))
  withContext(): string {
    return 'ok';
  }

  // @ts-expect-error a request factory on a route without requestKey() is checked against the handler
  @WithLock((req: Request) => `tenant:${req.headers['x-tenant']}`)
  unmarked(): string {
    return 'ok';
  }
}
