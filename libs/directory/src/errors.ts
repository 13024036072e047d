/** Machine-readable reason of a directory failure; the admin API maps it to an HTTP status. */
export type DirectoryErrorCode = "invalid" | "not_found" | "domain_not_found" | "already_exists" | "domain_not_empty";

export class DirectoryError extends Error {
  constructor(
    readonly code: DirectoryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A name, address, password or quota that does not pass validation. */
export class InvalidInput extends DirectoryError {
  constructor(message: string) {
    super("invalid", message);
  }
}

export class NotFound extends DirectoryError {
  constructor(message: string) {
    super("not_found", message);
  }
}

/** The domain is not one of ours. */
export class DomainNotFound extends DirectoryError {
  constructor(readonly domain: string) {
    super("domain_not_found", `domain ${domain} does not exist`);
  }
}

export class AlreadyExists extends DirectoryError {
  constructor(message: string) {
    super("already_exists", message);
  }
}

/** Removing a domain that still has accounts or aliases needs `force`. */
export class DomainNotEmpty extends DirectoryError {
  constructor(
    readonly domain: string,
    readonly accounts: number,
    readonly aliases: number,
  ) {
    super("domain_not_empty", `domain ${domain} still has ${accounts} account(s) and ${aliases} alias(es); remove them first or force the removal`);
  }
}
