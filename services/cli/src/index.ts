export { parseSize, formatSize } from "./sizes.ts";
