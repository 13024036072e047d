/**
 * Values per (model version, token) for about the `capacity` most recently used tokens, in two
 * generations: a hit in the older one copies the entry into the younger; when the younger has
 * taken in half the capacity it becomes the older, and the oldest is dropped whole. A hit is one
 * or two Map lookups and never a delete: the exact LRU this replaced (delete and re-insert on
 * every hit, in one Map keyed by a concatenated string) was a quarter of a classification's CPU.
 * Versions no longer asked for (a model that learned since) age out with their generation.
 */
export class TokenCache<V> {
  private young = new Map<string, Map<string, V>>();
  private old = new Map<string, Map<string, V>>();
  private youngEntries = 0;

  constructor(private readonly capacity: number) {}

  get(version: string, token: string): V | undefined {
    const hit = this.young.get(version)?.get(token);
    if (hit !== undefined) return hit;
    const aged = this.old.get(version)?.get(token);
    if (aged !== undefined) this.set(version, token, aged);
    return aged;
  }

  set(version: string, token: string, value: V): void {
    let tokens = this.young.get(version);
    if (!tokens) this.young.set(version, (tokens = new Map()));
    const before = tokens.size;
    tokens.set(token, value);
    if (tokens.size > before && ++this.youngEntries >= this.capacity / 2) {
      this.old = this.young;
      this.young = new Map();
      this.youngEntries = 0;
    }
  }
}
