import { parseDate } from "./format";

// Stripe expires an unpaid Checkout Session 24 hours after it was created
// (the app's default); the API sends `expires_at` when it knows better.
export const CHECKOUT_LIFETIME_MS = 24 * 60 * 60 * 1000;

// The status to show: a checkout still "pending" after its session expired can
// no longer be paid, so it is shown as expired rather than pending forever.
export function displayStatus(payment, now = Date.now()) {
  const status = String(payment?.status || "unknown").toLowerCase();
  if (status !== "pending") return status;
  const expires =
    parseDate(payment.expires_at) ||
    (parseDate(payment.created_at) && new Date(parseDate(payment.created_at).getTime() + CHECKOUT_LIFETIME_MS));
  return expires && expires.getTime() <= now ? "expired" : status;
}

// How many of the payments were actually paid. Their sums come from the server,
// per currency: amounts in different currencies are never added together.
export function paidTotals(payments) {
  const paid = (payments || []).filter((p) => displayStatus(p) === "completed");
  return { count: paid.length };
}
