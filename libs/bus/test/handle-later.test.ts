import assert from "node:assert/strict";
import { afterEach, mock, test } from "node:test";
import { callAt, MAX_TIMER_MS } from "../src/handle-later.ts";
import { HandleLater } from "../src/index.ts";

afterEach(() => mock.timers.reset());

test("HandleLater carries its due time and is an Error", () => {
  const at = Date.UTC(2030, 0, 1);
  const err = new HandleLater(at);
  assert.ok(err instanceof Error);
  assert.equal(err.at, at);
  assert.equal(err.name, "HandleLater");
  assert.match(err.message, /2030-01-01T00:00:00\.000Z/);
});

test("callAt waits out a delay beyond setTimeout's range in steps, firing once when due", () => {
  mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 });
  // Node fires a longer setTimeout after 1 ms (the mocked one does not): record every delay asked for.
  const delays: number[] = [];
  const mocked = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: () => void, ms: number) => {
    delays.push(ms);
    return mocked(fn, ms);
  }) as typeof setTimeout;
  const at = Date.now() + 3 * MAX_TIMER_MS + 5_000; // about 74 days
  let fired = 0;
  try {
    callAt(at, () => fired++);
  } finally {
    globalThis.setTimeout = mocked;
  }
  assert.deepEqual(delays, [MAX_TIMER_MS], "one timer at a time, never longer than setTimeout allows");
  mock.timers.tick(MAX_TIMER_MS);
  assert.equal(fired, 0, "not after the first capped step");
  mock.timers.tick(2 * MAX_TIMER_MS);
  assert.equal(fired, 0, "not after three capped steps");
  mock.timers.tick(4_000);
  assert.equal(fired, 0, "not a second early");
  mock.timers.tick(1_001);
  assert.equal(fired, 1, "fires when due");
  mock.timers.tick(10 * MAX_TIMER_MS);
  assert.equal(fired, 1, "only once");
});

test("callAt never calls back synchronously, also when already due, and can be cancelled", () => {
  mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 });
  let fired = 0;
  callAt(Date.now() - 10, () => fired++);
  assert.equal(fired, 0, "not synchronously");
  mock.timers.tick(1);
  assert.equal(fired, 1);
  const cancel = callAt(Date.now() + 2 * MAX_TIMER_MS, () => fired++);
  mock.timers.tick(MAX_TIMER_MS);
  cancel();
  mock.timers.tick(2 * MAX_TIMER_MS);
  assert.equal(fired, 1, "a cancelled wait does not fire");
});
