export { acquireDataDirLock, readDataDirLock, dataDirLockPath, DataDirLocked, type DataDirLock, type DataDirLockHolder } from "./datadir-lock.ts";
export { parseSize, formatSize } from "./sizes.ts";
