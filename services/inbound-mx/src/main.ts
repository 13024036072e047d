import { runServices } from "@postline/platform";
import { inboundMxService } from "./service.ts";

// The inbound MX as its own process: one pod in cluster mode.
await runServices({ name: "inbound-mx", services: [inboundMxService] });
