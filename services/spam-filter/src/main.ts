import { runServices } from "@postline/platform";
import { spamFilterService } from "./service.ts";

// The spam filter as its own process: one deployment in cluster mode, scaled by consumer-group members.
await runServices({ name: "spam-filter", services: [spamFilterService] });
