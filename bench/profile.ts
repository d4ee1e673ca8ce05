// Reads a V8 CPU profile (node --cpu-prof) and says where the time went: by function (self
// time), by file or package (self time), and by mailvault function including what it calls.
import { readFile } from 'node:fs/promises';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Functions by self time. */
  selfByFunction: ProfileEntry[];
  /** Files and packages by self time (node_modules/<pkg>, node:internal, src/<file>, (gc)...). */
  selfByFile: ProfileEntry[];
  /** mailvault's own functions (dist/) by inclusive time. */
  inclusiveProduct: ProfileEntry[];
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    const pkg = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? '');
    return `npm:${pkg}`;
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return `src/${url.slice(dist + '/dist/'.length).replace(/\.js$/, '.ts')}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

function functionKey(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  return `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

function top(map: Map<string, number>, total: number, count: number): ProfileEntry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, ms: us / 1000, share: total > 0 ? us / total : 0 }));
}

export async function summarizeProfile(path: string, count = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const selfTime = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    selfTime.set(id, (selfTime.get(id) ?? 0) + delta);
    total += delta;
  });
  const selfByFunction = new Map<string, number>();
  const selfByFile = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfTime) {
    const node = byId.get(id);
    if (!node) continue;
    const frame = node.callFrame;
    const key = functionKey(frame);
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + us);
    const file = frame.url === '' ? frame.functionName || '(native)' : shortUrl(frame.url);
    selfByFile.set(file, (selfByFile.get(file) ?? 0) + us);
    // Each product function on the stack gets the time once, however deep the recursion.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frameAt = byId.get(at)?.callFrame;
      if (!frameAt || !frameAt.url.includes('/dist/')) continue;
      const k = functionKey(frameAt);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  return {
    totalMs: total / 1000,
    selfByFunction: top(selfByFunction, total, count),
    selfByFile: top(selfByFile, total, count),
    inclusiveProduct: top(inclusive, total, count),
  };
}

export function formatProfile(title: string, summary: ProfileSummary): string {
  const lines = [`${title}: ${(summary.totalMs / 1000).toFixed(1)} s sampled`];
  const section = (heading: string, entries: ProfileEntry[]): void => {
    lines.push(`  ${heading}`);
    for (const entry of entries)
      lines.push(
        `    ${(entry.share * 100).toFixed(1).padStart(5)} %  ${(entry.ms / 1000).toFixed(2).padStart(7)} s  ${entry.name}`,
      );
  };
  section('self time by file / package', summary.selfByFile);
  section('self time by function', summary.selfByFunction);
  section('mailvault functions, inclusive', summary.inclusiveProduct);
  return lines.join('\n');
}
