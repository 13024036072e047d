// The standalone data directory lock lives in @postline/directory so that every process that opens
// the PGlite data directory (the standalone platform, the admin API run alone, this CLI) shares it.
export { acquireDataDirLock, readDataDirLock, dataDirLockPath, DataDirLocked, type DataDirLock, type DataDirLockHolder } from "@postline/directory";
