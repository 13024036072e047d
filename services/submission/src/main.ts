import { runServices } from "@postline/platform";
import { submissionService } from "./service.ts";

// Message submission as its own process: one pod in cluster mode.
await runServices({ name: "submission", services: [submissionService] });
