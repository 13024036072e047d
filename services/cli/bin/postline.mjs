#!/usr/bin/env node
// The `postline` executable: Postline runs its TypeScript directly through tsx (no build step).
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
