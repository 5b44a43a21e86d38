import { createServer } from 'node:http';

// The ceiling of any Node.js HTTP server on this machine: no routing, no
// parsing, one constant JSON body shaped like a Lix GET response.
const body = JSON.stringify({ value: { userId: 'user-1', username: 'alice' }, ttl: null });
const port = Number(process.env.PORT ?? 0);

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 72_000;
server.listen(port, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  console.log(`listening on http://127.0.0.1:${address.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
