// Which steps of a command the fault suite kills it after. At full scale, every one: 1, 2, 3...
// until a run completes without reaching the step. At the small scale `npm test` runs, a few per
// command, spread over the whole command and chosen by a seeded draw, so that another seed (or a
// later day's step count) reaches other points while a failure stays reproducible by its number.
import type { FaultStep } from './fault-run.js';

export type FaultScale = 'small' | 'full';

export interface FaultSettings {
  scale: FaultScale;
  seed: number;
  /** At full scale, every stride-th step (1 = every one). */
  stride: number;
  /** Only these scenarios (and, if given, only these steps of each): FAULT_ONLY=backup:17,prune. */
  only: Map<string, number[] | 'all'> | null;
}

/**
 * FAULT_SCALE (small | full), FAULT_SEED (a number), FAULT_STRIDE (a number, full scale),
 * FAULT_ONLY (scenario[:step[+step...]],...).
 */
export function faultSettings(env: NodeJS.ProcessEnv = process.env): FaultSettings {
  const scale = env.FAULT_SCALE === 'full' ? 'full' : 'small';
  const seed = Number(env.FAULT_SEED ?? 1);
  if (!Number.isSafeInteger(seed))
    throw new Error(`FAULT_SEED must be an integer: ${env.FAULT_SEED}`);
  const stride = Number(env.FAULT_STRIDE ?? 1);
  if (!Number.isSafeInteger(stride) || stride < 1)
    throw new Error(`FAULT_STRIDE must be a positive integer: ${env.FAULT_STRIDE}`);
  let only: FaultSettings['only'] = null;
  if (env.FAULT_ONLY) {
    only = new Map();
    for (const part of env.FAULT_ONLY.split(',')) {
      const [name, steps] = part.split(':');
      if (!name) continue;
      only.set(name, steps ? steps.split('+').map(Number) : 'all');
    }
  }
  return { scale, seed, stride, only };
}

/** A step whose effect a reader can see: a file under its real name, a removal, a commit. */
export function isVisible(step: FaultStep): boolean {
  if (step.op.startsWith('commit')) return true;
  if (step.op === 'link' || step.op === 'rename') return true;
  return (step.op === 'unlink' || step.op === 'rm') && !step.where.includes('/.tmp-');
}

/** A small, deterministic pseudo-random generator (mulberry32): the draw depends on the seed alone. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` steps out of a run's `steps`: the run cut into `count` stretches, one step drawn from
 * each, a visible one where the stretch has any (a kill after a temporary file's write or fsync
 * leaves what a kill after its open does, save its length).
 */
export function sampleSteps(steps: readonly FaultStep[], count: number, seed: number): number[] {
  if (steps.length <= count) return steps.map((step) => step.n);
  const draw = random(seed);
  const chosen = new Set<number>();
  for (let i = 0; i < count; i++) {
    const stretch = steps.slice(
      Math.floor((i * steps.length) / count),
      Math.floor(((i + 1) * steps.length) / count),
    );
    const visible = stretch.filter(isVisible);
    const pool = visible.length > 0 ? visible : stretch;
    const pick = pool[Math.floor(draw() * pool.length)];
    if (pick) chosen.add(pick.n);
  }
  return [...chosen].sort((a, b) => a - b);
}
