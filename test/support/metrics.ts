/**
 * @module metrics: reads `/metrics` for tests: scrapes the Prometheus text
 * format into samples keyed by name and labels, and compares two scrapes.
 */

/** One scrape: each sample's value by `name{label="value",…}`, labels sorted, the `node` label left out. */
export type Scrape = Map<string, number>;

/** The key of a sample, as {@link Scrape} spells it. */
export function series(name: string, labels: Record<string, string | number> = {}): string {
  const parts = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}="${value}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

/** Parses the Prometheus text format; `node` labels are checked against `node` and then dropped. */
export function parseScrape(text: string, node?: string): Scrape {
  const samples: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    if (labels.node !== node) throw new Error(`expected node ${node ?? '(none)'} on ${line}`);
    delete labels.node;
    samples.set(series(match[1]!, labels), Number(match[3]));
  }
  return samples;
}

export async function scrape(url: string, node?: string): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}: ${await response.text()}`);
  return parseScrape(await response.text(), node);
}

/** How much each sample of `names` moved from `before` to `after`; samples that did not move are left out. */
export function moved(before: Scrape, after: Scrape, names: readonly string[]): Record<string, number> {
  const deltas: Record<string, number> = {};
  for (const [key, value] of after) {
    if (!names.some((name) => key === name || key.startsWith(`${name}{`))) continue;
    const delta = value - (before.get(key) ?? 0);
    if (delta !== 0) deltas[key] = delta;
  }
  return deltas;
}
