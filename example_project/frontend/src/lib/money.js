// Amounts are handled as integer cents parsed from the decimal string, never
// by float arithmetic, so what the user typed is exactly what is sent.

export const TIP_MIN_CENTS = 100; // 1.00
export const TIP_MAX_CENTS = 100000; // 1000.00
export const TIP_MESSAGE_MAX = 500;
export const PREMIUM_PRICE = "9.99";

const AMOUNT_RE = /^\d+(?:\.\d{0,2})?$/;

// "12.5" -> 1250; numbers from the API are accepted too (10 -> 1000).
export function toCents(value) {
  if (value === null || value === undefined) return null;
  const text = String(value).trim();
  if (/^\d+(?:\.\d+)?$/.test(text) === false) return null;
  const [whole, frac = ""] = text.split(".");
  // The API may send more digits (e.g. a Decimal "9.990"); keep exact cents.
  const cents = (frac + "00").slice(0, 2);
  return Number(whole) * 100 + Number(cents);
}

export function centsToString(cents) {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

export function formatMoney(amount, currency = "usd") {
  const cents = typeof amount === "number" && !Number.isFinite(amount) ? null : toCents(amount);
  if (cents === null) return "—";
  try {
    return new Intl.NumberFormat("en-US", {
      style: "currency",
      currency: String(currency || "usd").toUpperCase(),
    }).format(cents / 100);
  } catch {
    return `${centsToString(cents)} ${String(currency || "").toUpperCase()}`;
  }
}

// Mirrors the server's tip rules; returns {amount?, message?, recipient?} errors.
export function validateTip({ recipient, amount, message }) {
  const errors = {};
  if (!recipient) errors.recipient = "Choose who you want to tip.";
  const text = String(amount ?? "").trim();
  if (!text) {
    errors.amount = "Enter an amount.";
  } else if (!AMOUNT_RE.test(text)) {
    errors.amount = /\.\d{3,}$/.test(text)
      ? "Use at most 2 decimal places."
      : "Enter a valid amount, e.g. 5 or 12.50.";
  } else {
    const cents = toCents(text);
    if (cents < TIP_MIN_CENTS || cents > TIP_MAX_CENTS) {
      errors.amount = "Tips must be between $1.00 and $1,000.00.";
    }
  }
  if ((message || "").length > TIP_MESSAGE_MAX) {
    errors.message = `Keep the message under ${TIP_MESSAGE_MAX} characters.`;
  }
  return errors;
}
