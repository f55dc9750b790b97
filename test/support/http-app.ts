import { Type } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { App } from 'supertest/types';
import { AppModule } from '../../src/app.module';
import { configureHttp } from '../../src/bootstrap';
import { AppConfig, loadConfig } from '../../src/config';
import type { UserRole } from '../../src/database';
import { UsersService } from '../../src/users/users.service';

export interface HttpApp {
  app: NestExpressApplication;
  config: AppConfig;
  server: App;
  close(): Promise<void>;
}

/** The real application (AppModule.forRole) in this process, configured as main.ts does. */
export async function createHttpApp(
  env: Record<string, string>,
  controllers: Type[] = [],
): Promise<HttpApp> {
  const config = loadConfig(env);
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRole(config)],
    controllers,
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    bufferLogs: true,
    forceCloseConnections: true,
  });
  configureHttp(app, config);
  await app.init();
  return { app, config, server: app.getHttpServer(), close: () => app.close() };
}

export interface Session {
  cookie: string;
  csrfToken: string;
}

export async function createUser(
  app: HttpApp,
  email: string,
  role: UserRole,
  password = 'correct horse battery',
): Promise<void> {
  await app.app.get(UsersService).create(email, password, role);
}

export async function login(
  server: App,
  email: string,
  password = 'correct horse battery',
): Promise<Session> {
  const res = await request(server).post('/auth/login').send({ email, password }).expect(200);
  return { cookie: sessionCookie(res.headers['set-cookie']), csrfToken: res.body.csrfToken };
}

/** The `sid=...` pair from a Set-Cookie header. */
export function sessionCookie(setCookie: string | string[] | undefined): string {
  const cookies = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const sid = cookies.find((c) => c.startsWith('sid='));
  if (!sid) throw new Error(`No session cookie in ${JSON.stringify(setCookie)}`);
  return sid.split(';')[0];
}
