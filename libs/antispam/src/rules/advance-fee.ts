import { bodyText } from "./body-text.ts";
import type { Rule } from "./rule.ts";

/**
 * The advance-fee fraud ("419") letter: a stranger with a large sum to move abroad, in confidence,
 * for a share. Each pattern is one ingredient of the story; the rule fires when enough of them
 * are in one message, so any one of the words alone (a bank, a transfer, "confidential") is not
 * evidence. SpamAssassin's ADVANCE_FEE rules count phrases the same way.
 */
const INGREDIENTS: RegExp[] = [
  // a large sum
  /(?:u\.?s\.?\s?\$|usd|\$|£|€)\s?\d+(?:[.,]\d+)*\s?(?:m\b|million)|(?:u\.?s\.?\s?\$|usd|\$|£|€)\s?\d{1,3}(?:[,.' ]\d{3}){2,}|\bmillions? (?:of )?(?:\(?(?:united states|us|u\.s\.|american)\)? )?(?:dollars|usd|euros?|pounds)/i,
  // moving it abroad
  /\b(?:transfer|remit|move)\w*\b[^.]{0,80}\b(?:funds?|money|sum|amount)\b|\bforeign (?:bank )?account|\boverseas account|\bbeneficiar(?:y|ies)\b|\bnext\s+of\s+kin\b|\bsecurity (?:company|firm)\b/i,
  // in confidence
  /\b(?:strict(?:est)?|utmost|absolute|total) (?:confiden|secre|trust)|\bconfidential(?:ity)?\b|\btop secret\b/i,
  // officialdom and the dead
  /\b(?:barrister|civil servants?|highly placed official|(?:government|republic|federal ministry) of (?:nigeria|ghana|sierra leone|south africa|zimbabwe|the congo|congo|liberia|ivory coast|cote d'ivoire|togo|benin|senegal|angola|cameroon)|central bank|ministry of|government official|late (?:husband|father|president|general|dictator|king)|widow of|crude oil|over-?invoic|contract (?:sum|payment)|deceased|killed my|death of my|rebels|in exile|self-exile)\b/i,
  // your share
  /\b\d{1,2}\s?%\s+(?:of (?:the )?(?:total|sum|funds?|money|amount)|for (?:you|your)|to you)|\bcompensate you\b|\b(?:the )?percentage (?:you|for you|of the (?:total|sum|funds?|money))|\bnegotiate your (?:fee|share|commission)/i,
  // the introduction
  /\b(?:using|through) this medium\b|\b(?:a|an) (?:reliable |trustworthy |honest |reputable )?foreign partner\b|\bpartner to be\b|\b(?:i am|my name is) (?:mr|mrs|dr|prince|princess|barrister|chief|engr?|captain|capt)\.?\s|\b(?:although|though) we (?:have not|haven't|do not know|don't know)|\b(?:got|obtained|came across) your (?:contact|e-?mail|address|name)|\bsurprise you\b/i,
];
const ENOUGH = 4;
/** No TRAIN ham has more than two ingredients; five of six is the whole story. */
const NEARLY_ALL = 5;

export const advanceFeeRule: Rule = {
  name: "advance-fee",
  check({ content }) {
    const text = bodyText(content);
    const found = INGREDIENTS.filter((re) => re.test(text)).length;
    if (found < ENOUGH) return [];
    return [{ name: found >= NEARLY_ALL ? "ADVANCE_FEE_MANY" : "ADVANCE_FEE", detail: `${found} of ${INGREDIENTS.length}` }];
  },
};
