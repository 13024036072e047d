import type { Rule, RuleHit } from "./rule.ts";

const EXECUTABLE_EXTENSIONS = new Set([
  "exe", "scr", "com", "pif", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta", "msi", "msp",
  "cpl", "jar", "ps1", "psm1", "lnk", "reg", "dll", "sys", "gadget", "application", "appx", "iso", "img",
]);
const MACRO_EXTENSIONS = new Set(["docm", "dotm", "xlsm", "xltm", "xlam", "xlsb", "pptm", "potm", "ppsm", "ppam", "sldm"]);
const EXECUTABLE_TYPES = new Set([
  "application/x-msdownload",
  "application/x-msdos-program",
  "application/x-dosexec",
  "application/x-executable",
  "application/vnd.microsoft.portable-executable",
  "application/x-ms-installer",
  "application/x-msi",
  "application/java-archive",
  "application/x-java-archive",
  "application/hta",
  "application/x-sh",
  "application/x-bat",
  "application/x-vbscript",
]);

/** Executables and macro-enabled Office documents, by name, declared type or (for PE files) content. */
export const attachmentsRule: Rule = {
  name: "attachments",
  check({ content }) {
    const hits: RuleHit[] = [];
    for (const attachment of content.parsed.attachments) {
      const name = attachment.filename ?? "";
      const extension = /\.([a-z0-9]+)\s*$/i.exec(name)?.[1]?.toLowerCase() ?? "";
      const type = attachment.contentType.toLowerCase();
      const label = name || type;
      const portableExecutable = attachment.content.subarray(0, 2).toString("latin1") === "MZ";
      if (EXECUTABLE_EXTENSIONS.has(extension) || EXECUTABLE_TYPES.has(type) || portableExecutable) {
        hits.push({ name: "EXECUTABLE_ATTACHMENT", detail: label });
      } else if (MACRO_EXTENSIONS.has(extension) || type.includes("macroenabled")) {
        hits.push({ name: "MACRO_ATTACHMENT", detail: label });
      }
    }
    return dedupe(hits);
  },
};

/** One hit per symbol: five .exe files are no worse than one. */
function dedupe(hits: RuleHit[]): RuleHit[] {
  const seen = new Map<string, RuleHit>();
  for (const hit of hits) if (!seen.has(hit.name)) seen.set(hit.name, hit);
  return [...seen.values()];
}
