import { test } from "node:test";
import assert from "node:assert/strict";
import { TokenCache } from "../src/bayes/token-cache.ts";

test("token cache: values per version; an entry used within the last capacity/2 insertions is kept, one unused for capacity insertions is gone", () => {
  const cache = new TokenCache<number>(4);
  cache.set("1:1", "a", 1);
  cache.set("1:2", "a", 2);
  assert.equal(cache.get("1:1", "a"), 1);
  assert.equal(cache.get("1:2", "a"), 2);
  assert.equal(cache.get("2:1", "a"), undefined);
  cache.set("1:1", "b", 3);
  assert.equal(cache.get("1:1", "a"), 1, "used, then one insertion: kept");
  for (const t of ["c", "d", "e", "f"]) cache.set("1:1", t, 0);
  assert.equal(cache.get("1:1", "a"), undefined, "unused for four insertions: gone");
  assert.equal(cache.get("1:2", "a"), undefined);
  assert.equal(cache.get("1:1", "f"), 0);
});

test("token cache: never holds more than its capacity", () => {
  const cache = new TokenCache<number>(1000);
  for (let i = 0; i < 10_000; i++) cache.set("1:1", String(i), i);
  let held = 0;
  for (let i = 0; i < 10_000; i++) if (cache.get("1:1", String(i)) !== undefined) held++;
  assert.ok(held <= 1000 && held >= 500, `${held} held`);
  assert.equal(cache.get("1:1", "9999"), 9999);
});
