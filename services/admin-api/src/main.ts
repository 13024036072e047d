import { runServices } from "@postline/platform";
import { adminApiService } from "./service.ts";

// The admin API as its own process: one pod in cluster mode.
await runServices({ name: "admin-api", services: [adminApiService] });
