import { createPgliteDatabase } from "@postline/testkit";
import { directorySuite } from "./directory-suite.ts";

directorySuite("directory on PGlite", async () => {
  const db = await createPgliteDatabase();
  return { db, close: () => db.close() };
});
