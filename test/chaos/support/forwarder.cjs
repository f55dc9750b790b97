// Runs inside a test host (ip netns exec <host> node forwarder.cjs <socket> <address> <port>):
// forwards a Unix socket, which the test driver in the root namespace can open, to a TCP port
// on the host's private address, which the driver cannot reach (the root namespace gets no
// private address). Only the test driver uses it; the app processes talk TCP between hosts.
'use strict';

const fs = require('node:fs');
const net = require('node:net');

const [socketPath, address, port] = process.argv.slice(2);
fs.rmSync(socketPath, { force: true });

const server = net.createServer((client) => {
  const upstream = net.connect({ host: address, port: Number(port) });
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
});
server.listen(socketPath, () => process.stdout.write('forwarding\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
