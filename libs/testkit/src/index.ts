export { testInfra, testDatabaseUrl, testKafkaBrokers, testS3, uniqueName, type TestInfra } from "./infra.ts";
export { createTestDatabase, createPgliteDatabase, type TestDatabase } from "./databases.ts";
export { startPostfix, type PostfixInstance, type PostfixOptions } from "./postfix.ts";
export { freePort } from "./ports.ts";
export { clusterEnv, startServiceProcess, type ServiceProcess } from "./services.ts";
export { startDnsServer, dnsmasqConfig, type DnsZones, type DnsServer } from "./dns-server.ts";
export { startMinio, type MinioInstance } from "./minio.ts";
export { smtpTransaction, simpleMessage, type SmtpTransaction, type SmtpReply } from "./smtp-client.ts";
export { SmtpClient, sendMail, sendTransaction, type Reply } from "./smtp-session.ts";
