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
