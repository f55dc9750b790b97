import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ClsService } from 'nestjs-cls';
import { CorrelationStore } from './correlation.store';

/** Reads and scopes the current correlation ID; a thin, typed face on nestjs-cls. */
@Injectable()
export class CorrelationContext {
  constructor(private readonly cls: ClsService<CorrelationStore>) {}

  get id(): string | undefined {
    return this.cls.isActive() ? this.cls.get('correlationId') : undefined;
  }

  get origin(): string | undefined {
    return this.cls.isActive() ? this.cls.get('origin') : undefined;
  }

  /** The current ID, or a fresh one when this code runs outside any request or job. */
  currentOrNew(): string {
    return this.id ?? randomUUID();
  }

  /** Runs fn in a new context holding these values (a job, a scheduler tick, a CLI command). */
  run<T>(store: CorrelationStore, fn: () => T): T {
    return this.cls.run(() => {
      for (const [key, value] of Object.entries(store))
        this.cls.set(key as keyof CorrelationStore, value);
      return fn();
    });
  }
}
