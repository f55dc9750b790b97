import express from 'express';
import type { AddressInfo } from 'node:net';
import { ParentChannel } from '../lib/child-side';

/** A second baseline of the public route: bare Express, same route and answer, no Nest. */
const channel = new ParentChannel();
const app = express();
app.get('/health/live', (_req, res) => {
  res.json({ status: 'ok' });
});
const server = app.listen(0, '127.0.0.1', () => {
  channel.onStop(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  channel.send({ type: 'ready', port: (server.address() as AddressInfo).port });
});
