import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../../src/app.module';
import { configureHttp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config';
import { SessionLoader } from '../../src/session/session-loader';
import { UsersService } from '../../src/users/users.service';
import type { AddressInfo } from 'node:net';
import { ParentChannel } from '../lib/child-side';
import { BENCH_USER } from './bench-user';

/**
 * The project's HTTP process as main.ts starts it (AppModule.forRole, configureHttp), role api.
 * BENCH_SESSION_EVERYWHERE=1 builds the design the route groups avoid: the session middleware
 * in front of every route, public ones included (to show what the route groups save).
 */
async function main(): Promise<void> {
  const channel = new ParentChannel();
  try {
    const config = loadConfig({ ...process.env });
    const app = await NestFactory.create<NestExpressApplication>(AppModule.forRole(config), {
      bufferLogs: true,
      forceCloseConnections: true,
    });
    if (process.env.BENCH_SESSION_EVERYWHERE === '1') {
      const sessions = app.get(SessionLoader);
      app.use(
        (
          req: Parameters<SessionLoader['load']>[0],
          res: Parameters<SessionLoader['load']>[1],
          next: (error?: unknown) => void,
        ) => {
          sessions.load(req, res).then(() => next(), next);
        },
      );
    }
    configureHttp(app, config);
    app.enableShutdownHooks();
    await app.init(); // migrations run here
    await app
      .get(UsersService)
      .create(BENCH_USER.email, BENCH_USER.password, 'admin', { ifAbsent: true });
    await app.listen(0, '127.0.0.1');
    channel.onStop(() => app.close());
    channel.send({ type: 'ready', port: (app.getHttpServer().address() as AddressInfo).port });
  } catch (error) {
    channel.fail(error);
    process.exit(1);
  }
}

void main();
