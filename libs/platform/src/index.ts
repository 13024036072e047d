export { openAdapters, type Adapters } from "./adapters.ts";
export type { ServiceContext, RunningService, ServiceModule, StopOptions } from "./service.ts";
export { runServices, type RunOptions } from "./run.ts";
