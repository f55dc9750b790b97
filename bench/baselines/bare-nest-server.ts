import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { ParentChannel } from '../lib/child-side';

/** The baseline of the public route: a bare NestJS (Express) app with the same route and answer. */
@Controller('health')
class HealthController {
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

@Module({ controllers: [HealthController] })
class BareModule {}

async function main(): Promise<void> {
  const channel = new ParentChannel();
  try {
    const app = await NestFactory.create<NestExpressApplication>(BareModule, {
      logger: ['error', 'warn'],
      forceCloseConnections: true,
    });
    await app.listen(0, '127.0.0.1');
    channel.onStop(() => app.close());
    channel.send({ type: 'ready', port: (app.getHttpServer().address() as AddressInfo).port });
  } catch (error) {
    channel.fail(error);
    process.exit(1);
  }
}

void main();
