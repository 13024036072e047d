import type { ServiceModule } from "@postline/platform";
import { adminApiService } from "@postline/admin-api";

/** Every service `postline start` runs, in start order (stopped in reverse). */
export const allServices: ServiceModule[] = [adminApiService];
