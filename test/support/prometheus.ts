// Reading the Prometheus text exposition format (what lifetop serves) back into series, for tests.

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/y;

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** Every sample line of an exposition; throws on a line that is not one (the format must hold). */
export function parseExposition(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const body = m[2].slice(1, -1);
      let at = 0;
      while (at < body.length) {
        LABEL.lastIndex = at;
        const l = LABEL.exec(body);
        if (!l) throw new Error(`bad labels in ${JSON.stringify(line)}`);
        labels[l[1]] = unescape(l[2]);
        at = LABEL.lastIndex;
        if (body[at] === ',') at++;
      }
    }
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The one sample of `name` whose labels include `labels`, or undefined. */
export function sample(series: Series[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = series.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} series of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}

/** Fetches http://address/metrics and parses it. */
export async function scrape(address: string): Promise<{ text: string; series: Series[]; contentType: string }> {
  const res = await fetch(`http://${address}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const text = await res.text();
  return { text, series: parseExposition(text), contentType: res.headers.get('content-type') ?? '' };
}

/** A loopback port nobody listens on now (the OS's pick). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

export interface PromServer {
  address: string;
  /** Instant query through Prometheus's HTTP API: the result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  /** GET an API path, parsed. */
  api(pathAndQuery: string): Promise<unknown>;
  stop(): Promise<void>;
  log(): string;
}

/**
 * Starts Debian's prometheus binary on a loopback port with its own storage in `dir` (never the
 * packaged service); resolves once it reports ready.
 */
export async function startPrometheus(configFile: string, dir: string): Promise<PromServer> {
  const { spawn } = await import('node:child_process');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const child = spawn('prometheus', [
    `--config.file=${configFile}`, `--storage.tsdb.path=${dir}/tsdb`, `--web.listen-address=${address}`, '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (log += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const api = async (p: string): Promise<unknown> => {
    const res = await fetch(`http://${address}${p}`);
    const body = await res.json() as { status: string; data: unknown; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${p}: ${body.error}`);
    return body.data;
  };
  const server: PromServer = {
    address,
    api,
    async query(expr) {
      const data = await api(`/api/v1/query?query=${encodeURIComponent(expr)}`) as { result: { metric: Record<string, string>; value: [number, string] }[] };
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    log: () => log,
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
    try {
      if ((await fetch(`http://${address}/-/ready`)).status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`prometheus not ready after 30 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls fn until it returns a value that is not undefined (or throws after timeoutMs). */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
