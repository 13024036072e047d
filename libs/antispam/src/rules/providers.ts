/**
 * Big mail providers: the address domains they host and the names their own relays have. Mail
 * from their users passes through those relays; a provider not in the table is never judged.
 * AOL's mail has been sent by Yahoo's servers since the two merged.
 */
export interface MailProvider {
  domains: RegExp;
  relays: RegExp;
}

const PROVIDERS: MailProvider[] = [
  { domains: /^(?:hotmail|msn|outlook|live|passport)\.[a-z.]+$/, relays: /hotmail|msn\.(?:com|net)|outlook\.com|live\.com|microsoft\.com/ },
  { domains: /^(?:yahoo|ymail|rocketmail)\.[a-z.]+$/, relays: /yahoo/ },
  { domains: /^(?:aol|aim)\.com$/, relays: /\baol\.(?:com|net)|\baim\.com|yahoo/ },
  { domains: /^(?:gmail|googlemail)\.com$/, relays: /google|gmail/ },
  { domains: /^(?:gmx\.[a-z.]+|web\.de)$/, relays: /gmx\.|web\.de/ },
  { domains: /^(?:juno|netzero)\.(?:com|net)$/, relays: /juno\.com|netzero\.(?:com|net)|untd\.com/ },
  { domains: /^(?:earthlink|mindspring)\.(?:com|net)$/, relays: /earthlink|mindspring|elnk\.net/ },
  { domains: /^(?:mail|yandex)\.ru$/, relays: /mail\.ru|yandex/ },
];

/** The provider hosting this (lower-case, organizational) domain, if it is one of the table's. */
export function providerOf(domain: string): MailProvider | undefined {
  return PROVIDERS.find((p) => p.domains.test(domain));
}
