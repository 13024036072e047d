import { domainToUnicode } from "node:url";
import type { Account, Alias, Domain } from "@postline/directory";

/** What the admin API returns (and the CLI prints): plain JSON, never a password hash. */
export interface DomainView {
  name: string;
  /** The name in Unicode (differs from `name` for IDNs). */
  unicodeName: string;
  catchAll: string | null;
  createdAt: string;
}

export interface AccountView {
  address: string;
  domain: string;
  /** null: unlimited. */
  quotaBytes: number | null;
  usedBytes: number;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface AliasView {
  source: string;
  destination: string;
  domain: string;
  createdAt: string;
}

export function domainView(d: Domain): DomainView {
  return { name: d.name, unicodeName: domainToUnicode(d.name) || d.name, catchAll: d.catchAll, createdAt: d.createdAt.toISOString() };
}

export function accountView(a: Account): AccountView {
  return {
    address: a.address,
    domain: a.domain,
    quotaBytes: a.quotaBytes,
    usedBytes: a.usedBytes,
    disabled: a.disabled,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}

export function aliasView(a: Alias): AliasView {
  return { source: a.source, destination: a.destination, domain: a.domain, createdAt: a.createdAt.toISOString() };
}
