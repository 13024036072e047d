import { bodyText } from "./body-text.ts";
import type { Rule } from "./rule.ts";

/**
 * A penny-stock promotion ("pump and dump"): a share traded over the counter (OTC Bulletin Board,
 * Pink Sheets), where a few cents' price can be pushed by mail, together with the promoter's
 * vocabulary (strong buy, target price, undervalued, the float). Exchange-listed tickers in news
 * are not a sign; the OTC listing and the sales pitch are.
 */
const OTC_LISTING = /\b(?:otc\s?bb|otc\s?:\s?[a-z]{3,5}|pink ?sheets)\b/i;
const PITCH = /\b(?:strong buy|target price|price target|(?:short|long)[- ]term target|undervalued|shares outstanding|the float\b|alert rating|investor alert|stock alert|breakout)/i;

export const stockPromotionRule: Rule = {
  name: "stock-promotion",
  check({ content }) {
    const text = bodyText(content);
    const listing = OTC_LISTING.exec(text);
    const pitch = listing && PITCH.exec(text);
    return pitch ? [{ name: "STOCK_PROMOTION", detail: `${listing[0]}, ${pitch[0]}`.toLowerCase() }] : [];
  },
};
