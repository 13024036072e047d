import type { ServiceModule } from "@postline/platform";
import { adminApiService } from "@postline/admin-api";
import { deliveryService } from "@postline/delivery";
import { imapPop3Service } from "@postline/imap-pop3";
import { inboundMxService } from "@postline/inbound-mx";
import { spamFilterService } from "@postline/spam-filter";
import { submissionService } from "@postline/submission";

/** Every service `postline start` runs, in start order (stopped in reverse): consumers before the listeners that feed them. */
export const allServices: ServiceModule[] = [deliveryService, spamFilterService, inboundMxService, submissionService, imapPop3Service, adminApiService];
