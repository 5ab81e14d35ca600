/**
 * A small seeded generator (mulberry32). The runner shuffles and augments with it instead of Math.random
 * so that a trial's seed fixes every random choice it makes.
 */
export class SeededRandom {
  private current: number;

  /**
   * The state is 32 bits: seeds 2^32 apart would be one stream, which is why the schema bounds train.seed to 0..2^32 - 1.
   * The seed is the state itself, so `new SeededRandom(random.state)` goes on with `random`'s stream (a checkpoint's resume).
   */
  constructor(seed: number) {
    this.current = seed >>> 0;
  }

  /** The whole state: what a checkpoint keeps to continue the stream. */
  get state(): number {
    return this.current;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.current = (this.current + 0x6d2b79f5) >>> 0;
    let t = this.current;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** An integer seed for a library call that takes one. */
  int(): number {
    return Math.floor(this.next() * 2147483647);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Fisher–Yates shuffle of 0..n-1. */
  permutation(n: number): Uint32Array {
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    return order;
  }
}
