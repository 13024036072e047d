import assert from "node:assert/strict";
import { test } from "node:test";
import { formatSize, parseSize } from "../src/index.ts";

test("sizes: binary units, unlimited", () => {
  assert.equal(parseSize("1G"), 2 ** 30);
  assert.equal(parseSize("500M"), 500 * 2 ** 20);
  assert.equal(parseSize("1.5gib"), 1.5 * 2 ** 30);
  assert.equal(parseSize("2048"), 2048);
  assert.equal(parseSize("10KB"), 10240);
  assert.equal(parseSize("unlimited"), null);
  assert.equal(parseSize("none"), null);
  for (const bad of ["", "G", "-1G", "1X", "1 2"]) assert.throws(() => parseSize(bad), /is not a size/, bad);
  assert.equal(formatSize(null), "unlimited");
  assert.equal(formatSize(0), "0 B");
  assert.equal(formatSize(2 ** 30), "1 GiB");
  assert.equal(formatSize(1.5 * 2 ** 20), "1.5 MiB");
});
