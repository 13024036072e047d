export { deliveryService, DELIVERY_GROUP } from "./service.ts";
export { handleClassified, type DeliveryDeps } from "./handle-classified.ts";
export { deliveryHeader, spamHeader, formatScore, storedMessage, type StoredMessage } from "./local/stored-message.ts";
export { deliveryMetrics, type DeliveryMetrics, type DeliveryOutcome } from "./metrics.ts";
