import { createPgliteDatabase } from "@postline/testkit";
import { mailstoreSuite } from "./mailstore-suite.ts";

mailstoreSuite("mailstore on PGlite", async () => {
  const db = await createPgliteDatabase();
  return { db, close: () => db.close() };
});
