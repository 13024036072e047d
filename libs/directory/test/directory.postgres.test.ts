import { createTestDatabase } from "@postline/testkit";
import { directorySuite } from "./directory-suite.ts";

directorySuite("directory on PostgreSQL", async () => {
  const t = await createTestDatabase();
  return { db: t.db, close: () => t.drop() };
});
