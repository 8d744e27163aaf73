// The /metrics endpoint: a plain node:http server (no authentication, as the help says), bound
// before the session starts so a taken port fails the run at once, closed with the session.
import * as http from 'node:http';

export interface Exposition {
  text(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsServer {
  /** The address actually bound, e.g. "127.0.0.1:9464" or "[::]:9464". */
  readonly address: string;
  close(): void;
}

/** Why a listen failed, in the user's words. */
function listenError(err: NodeJS.ErrnoException, where: string): Error {
  const why = err.code === 'EADDRINUSE' ? 'the address is already in use'
    : err.code === 'EACCES' ? 'permission denied'
      : err.code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : err.message;
  return new Error(`cannot serve metrics on ${where}: ${why}`);
}

/** Listens on host:port (host undefined: every address); resolves once bound. */
export function serveMetrics(exposition: Exposition, listen: { host: string | undefined; port: number; text: string },
  warn: (message: string) => void): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
    } else if (url === '/metrics') {
      exposition.text().then((body) => {
        res.writeHead(200, { 'Content-Type': exposition.contentType }).end(req.method === 'HEAD' ? undefined : body);
      }, (err: Error) => {
        warn(`metrics: ${err.message}`);
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics failed\n');
      });
    } else if (url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('lifetop: Prometheus metrics at /metrics\n');
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /metrics\n');
    }
  });
  server.keepAliveTimeout = 65_000; // longer than Prometheus's scrape interval: one connection per scraper
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, listen.text)));
    server.listen({ host: listen.host, port: listen.port }, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => warn(`metrics: ${err.message}`));
      server.unref(); // the run decides when lifetop ends, never a scraper's connection
      const a = server.address();
      const address = a && typeof a === 'object' ? (a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`) : listen.text;
      resolve({
        address,
        close: () => {
          server.close();
          server.closeAllConnections();
        },
      });
    });
  });
}
