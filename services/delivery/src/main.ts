import { runServices } from "@postline/platform";
import { deliveryService } from "./service.ts";

// Delivery as its own process: one pod in cluster mode; replicas share the work through the group.
await runServices({ name: "delivery", services: [deliveryService] });
