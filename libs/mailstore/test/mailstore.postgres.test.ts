import { createTestDatabase } from "@postline/testkit";
import { mailstoreSuite } from "./mailstore-suite.ts";

mailstoreSuite("mailstore on PostgreSQL", async () => {
  const t = await createTestDatabase();
  return { db: t.db, close: () => t.drop() };
});
