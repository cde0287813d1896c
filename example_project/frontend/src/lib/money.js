// Amounts are handled as integer minor units parsed from the decimal string, never
// by float arithmetic, so what the user typed is exactly what is sent. Each currency
// has its own number of decimals (JPY 0, USD 2, KWD 3): the server's price list
// (`GET payments/currencies/`) says which, with a fallback table for display.

export const TIP_MESSAGE_MAX = 500;
export const PREMIUM_PRICE = "9.99";
export const DEFAULT_CURRENCY = "usd";

// Stripe's zero- and three-decimal currencies; every other one has two decimals.
const ZERO_DECIMAL = new Set("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split(" "));
const THREE_DECIMAL = new Set("bhd jod kwd omr tnd".split(" "));

export function currencyDecimals(currency) {
  const code = String(currency || DEFAULT_CURRENCY).toLowerCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

// "12.5" -> 1250 (2 decimals), "500" -> 500 (0 decimals); numbers from the API too.
// More digits than the currency has: null when they are not zeros ("9.990" is fine).
export function toMinor(value, decimals = 2) {
  if (value === null || value === undefined) return null;
  const text = String(value).trim();
  if (!/^\d+(?:\.\d+)?$/.test(text)) return null;
  const [whole, frac = ""] = text.split(".");
  if (/[^0]/.test(frac.slice(decimals))) return null;
  const digits = (frac + "0".repeat(decimals)).slice(0, decimals);
  return Number(whole) * 10 ** decimals + Number(digits || "0");
}

export function minorToString(minor, decimals = 2) {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  if (!decimals) return `${sign}${abs}`;
  const unit = 10 ** decimals;
  return `${sign}${Math.floor(abs / unit)}.${String(abs % unit).padStart(decimals, "0")}`;
}

// Kept for pages written for dollars only.
export const toCents = (value) => toMinor(value, 2);
export const centsToString = (cents) => minorToString(cents, 2);

export function formatMoney(amount, currency = DEFAULT_CURRENCY) {
  const code = String(currency || DEFAULT_CURRENCY).toUpperCase();
  const decimals = currencyDecimals(code);
  const minor = typeof amount === "number" && !Number.isFinite(amount) ? null : toMinor(amount, decimals);
  if (minor === null) return "—";
  const exact = minorToString(minor, decimals);
  try {
    // A numeric string keeps the exact decimal (no binary float in between).
    return new Intl.NumberFormat("en-US", {
      style: "currency",
      currency: code,
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    }).format(exact);
  } catch {
    return `${exact} ${code}`;
  }
}

// The terms of one currency from the price list, or the one-currency defaults.
export function termsFor(priceList, currency) {
  const found = priceList?.currencies?.find((c) => c.currency === currency);
  if (found) return found;
  return {
    currency: DEFAULT_CURRENCY,
    decimals: 2,
    amount_step: "0.01",
    premium_price: PREMIUM_PRICE,
    tip_min: "1.00",
    tip_max: "1000.00",
  };
}

// Mirrors the server's tip rules; returns {amount?, message?, recipient?} errors.
export function validateTip({ recipient, amount, message }, terms = termsFor(null, DEFAULT_CURRENCY)) {
  const errors = {};
  const decimals = terms.decimals;
  if (!recipient) errors.recipient = "Choose who you want to tip.";
  const text = String(amount ?? "").trim();
  const minor = toMinor(text, decimals);
  if (!text) {
    errors.amount = "Enter an amount.";
  } else if (!/^\d+(?:\.\d+)?$/.test(text)) {
    errors.amount = decimals ? "Enter a valid amount, e.g. 5 or 12.50." : "Enter a whole amount, e.g. 500.";
  } else if (minor === null) {
    errors.amount = decimals
      ? `Use at most ${decimals} decimal places.`
      : `${terms.currency.toUpperCase()} amounts have no decimals.`;
  } else if (minor % toMinor(terms.amount_step, decimals) !== 0) {
    errors.amount = `Amounts must be multiples of ${formatMoney(terms.amount_step, terms.currency)}.`;
  } else if (minor < toMinor(terms.tip_min, decimals) || minor > toMinor(terms.tip_max, decimals)) {
    errors.amount = `Tips must be between ${formatMoney(terms.tip_min, terms.currency)} and ${formatMoney(terms.tip_max, terms.currency)}.`;
  }
  if ((message || "").length > TIP_MESSAGE_MAX) {
    errors.message = `Keep the message under ${TIP_MESSAGE_MAX} characters.`;
  }
  return errors;
}

// "$" for USD, "¥" for JPY, "KWD" where the locale has no symbol.
export function currencySymbol(currency = DEFAULT_CURRENCY) {
  const code = String(currency || DEFAULT_CURRENCY).toUpperCase();
  try {
    const parts = new Intl.NumberFormat("en-US", { style: "currency", currency: code }).formatToParts(0);
    return parts.find((p) => p.type === "currency")?.value || code;
  } catch {
    return code;
  }
}

// Suggested tips: small multiples of the currency's smallest tip (3, 5, 10, 25 × TIP_MIN).
export function tipPresets(terms) {
  const smallest = toMinor(terms.tip_min, terms.decimals) || 0;
  return [3, 5, 10, 25].map((n) => minorToString(n * smallest, terms.decimals));
}
