"use client";

import { useCallback, useEffect, useState } from "react";
import { useRouter } from "next/navigation";
import { paymentAPI } from "@/lib/api";
import { formatDate } from "@/lib/format";
import { formatMoney, termsFor } from "@/lib/money";
import CurrencyPicker from "@/components/CurrencyPicker";
import { toastError } from "@/components/Toast";
import { Badge, ErrorAlert, PageHeader, PageLoader } from "@/components/ui";

const BENEFITS = [
  { label: "Browse and book skill swaps", free: true, premium: true },
  { label: "Send and receive tips", free: true, premium: true },
  { label: "Active skill listings", free: "3", premium: "Unlimited" },
  { label: "Priority placement in search", free: false, premium: true },
  { label: "Premium badge on your profile", free: false, premium: true },
  { label: "Session analytics", free: false, premium: true },
];

function Benefit({ label, value }) {
  return (
    <li className={value === false ? "off" : ""}>
      {value === false ? (
        <span className="no" aria-label="Not included">—</span>
      ) : (
        <span className="yes" aria-label="Included">✓</span>
      )}
      <span>{label}</span>
      {typeof value === "string" && <span className="benefit-value">{value}</span>}
    </li>
  );
}

export default function SubscriptionPage() {
  const router = useRouter();
  const [status, setStatus] = useState(null);
  const [priceList, setPriceList] = useState(null);
  const [currency, setCurrency] = useState("");
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      const [current, prices] = await Promise.all([
        paymentAPI.getSubscriptionStatus(),
        paymentAPI.getPriceList(),
      ]);
      setPriceList(prices);
      setCurrency((chosen) => chosen || prices.default_currency);
      setStatus(current);
    } catch (err) {
      setError(err);
      toastError(err, "Could not load your plan");
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    load();
  }, [load]);

  const premium = !!status?.is_premium;
  const sub = status?.subscription;
  const receipt = status?.receipt;
  const receiptDate = receipt?.completed_at || sub?.current_period_start;
  const terms = termsFor(priceList, currency || priceList?.default_currency);
  const price = formatMoney(terms.premium_price, terms.currency);
  const receiptAmount = receipt ? formatMoney(receipt.amount, receipt.currency) : price;

  return (
    <>
      <PageHeader
        title="Subscription"
        subtitle="One payment, Premium forever. No recurring charges."
        actions={
          status && (
            <Badge
              tone={premium ? "premium" : "neutral"}
              className="badge-lg"
              data-testid="premium-status"
              data-premium={premium ? "true" : "false"}
            >
              {premium ? "Premium" : "Free"}
            </Badge>
          )
        }
      />

      {loading && !status && <PageLoader label="Loading your plan…" />}
      {error && (
        <ErrorAlert
          title={error.message}
          action={
            <button type="button" className="btn btn-secondary btn-sm" onClick={load}>
              Try again
            </button>
          }
        >
          {error.detail}
        </ErrorAlert>
      )}

      {status && (
        <>
          {premium ? (
            <section className="card manage-card" data-testid="manage-card">
              <div className="card-head">
                <div>
                  <h2>Manage Premium</h2>
                  <p className="muted">
                    Your Premium access is active
                    {sub?.current_period_end ? ` until ${formatDate(sub.current_period_end, { time: false })}` : " with no expiry"}.
                  </p>
                </div>
                <Badge tone="success">{status.status === "active" ? "Active" : status.status}</Badge>
              </div>
              <dl className="details">
                <div>
                  <dt>Plan</dt>
                  <dd>{sub?.plan_type ? sub.plan_type.charAt(0).toUpperCase() + sub.plan_type.slice(1) : "Premium"} · one-time</dd>
                </div>
                <div>
                  <dt>Amount paid</dt>
                  <dd data-testid="receipt-amount">{receiptAmount}</dd>
                </div>
                <div>
                  <dt>Receipt date</dt>
                  <dd data-testid="receipt-date">{formatDate(receiptDate)}</dd>
                </div>
                <div>
                  <dt>Renewal</dt>
                  <dd>{sub?.cancel_at_period_end ? "Ends at period end" : "None — paid once"}</dd>
                </div>
              </dl>
              <div className="button-row">
                <button type="button" className="btn btn-secondary" onClick={() => router.push("/dashboard/payments/?type=premium")}>
                  View receipts
                </button>
              </div>
            </section>
          ) : (
            <section className="card upgrade-card">
              <div>
                <h2>Go Premium</h2>
                <p className="muted">
                  Unlock unlimited listings, priority placement and analytics for a single payment of{" "}
                  <strong data-testid="premium-price">{price}</strong>.
                </p>
              </div>
              <div className="upgrade-actions">
                <CurrencyPicker
                  id="premium-currency"
                  label="Pay in"
                  priceList={priceList}
                  value={terms.currency}
                  onChange={setCurrency}
                  priceOf={(c) => c.premium_price}
                />
                <button
                  type="button"
                  className="btn btn-primary btn-lg"
                  onClick={() =>
                    router.push(`/dashboard/subscription/create/?currency=${encodeURIComponent(terms.currency)}`)
                  }
                >
                  Upgrade to Premium — {price} one-time
                </button>
              </div>
            </section>
          )}

          <section className="plans" aria-label="Plan comparison">
            <div className={`card plan ${premium ? "" : "plan-current"}`}>
              <div className="plan-head">
                <h3>Free</h3>
                {!premium && <Badge tone="neutral">Current plan</Badge>}
              </div>
              <div className="price">$0</div>
              <ul className="benefits">
                {BENEFITS.map((b) => (
                  <Benefit key={b.label} label={b.label} value={b.free} />
                ))}
              </ul>
            </div>
            <div className={`card plan plan-premium ${premium ? "plan-current" : ""}`}>
              <div className="plan-head">
                <h3>Premium</h3>
                {premium ? <Badge tone="premium">Current plan</Badge> : <Badge tone="info">Best value</Badge>}
              </div>
              <div className="price">
                {premium ? receiptAmount : price} <span className="price-note">one-time</span>
              </div>
              <ul className="benefits">
                {BENEFITS.map((b) => (
                  <Benefit key={b.label} label={b.label} value={b.premium} />
                ))}
              </ul>
            </div>
          </section>
        </>
      )}
    </>
  );
}
