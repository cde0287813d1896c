"use client";

import dynamic from "next/dynamic";
import { useCallback, useEffect, useMemo, useState } from "react";
import { staffAPI } from "@/lib/api";
import { formatDate, shortId } from "@/lib/format";
import { currencyDecimals, formatMoney, minorToString, toMinor } from "@/lib/money";
import { useSession } from "@/components/DashboardShell";
import { toast, toastError } from "@/components/Toast";
import { EmptyState, ErrorAlert, PageHeader, Spinner, StatusBadge } from "@/components/ui";

// The chart library measures the page, so it renders in the browser only.
const RevenueChart = dynamic(() => import("@/components/RevenueChart"), { ssr: false });

const REASONS = [
  ["requested_by_customer", "Requested by customer"],
  ["duplicate", "Duplicate"],
  ["fraudulent", "Fraudulent"],
];

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

// What is left to refund, worked out in minor units (no float arithmetic on money).
function remainingOf(payment) {
  const decimals = currencyDecimals(payment.currency);
  const left = toMinor(payment.amount, decimals) - toMinor(payment.amount_refunded || 0, decimals);
  return minorToString(left, decimals);
}

function percent(rate) {
  if (rate === null || rate === undefined) return "—";
  return `${(Number(rate) * 100).toFixed(1)}%`;
}

export default function StaffPage() {
  const { user } = useSession();
  const [payments, setPayments] = useState(null);
  const [disputes, setDisputes] = useState(null);
  const [analytics, setAnalytics] = useState(null);
  const [error, setError] = useState(null);
  const [refunding, setRefunding] = useState(null);

  const range = useMemo(() => {
    const to = new Date();
    const from = new Date(Date.now() - 29 * 86400000);
    return { from: isoDay(from), to: isoDay(to), granularity: "day" };
  }, []);

  const load = useCallback(async () => {
    setError(null);
    try {
      const [page, disputeList, figures] = await Promise.all([
        staffAPI.listPayments({ limit: 50 }),
        staffAPI.disputes({ limit: 20 }),
        staffAPI.analytics(range),
      ]);
      setPayments(page.results);
      setDisputes(disputeList.results);
      setAnalytics(figures);
    } catch (err) {
      setError(err);
    }
  }, [range]);

  useEffect(() => {
    if (user?.is_staff) load();
  }, [user, load]);

  if (user && !user.is_staff) {
    return (
      <div>
        <PageHeader title="Staff" />
        <ErrorAlert title="Staff only">Log in as the demo's staff user (admin) to see this page.</ErrorAlert>
      </div>
    );
  }

  return (
    <div>
      <PageHeader title="Staff" subtitle="Revenue, refunds and disputes across all users" />
      {error && (
        <ErrorAlert
          title="Could not load the staff figures"
          action={<button type="button" className="btn btn-secondary btn-sm" onClick={load}>Retry</button>}
        >
          {error.message}
        </ErrorAlert>
      )}
      {!error && analytics === null && <Spinner label="Loading figures" />}
      {analytics && <Figures analytics={analytics} />}

      <section className="card staff-section">
        <h2>Payments</h2>
        {payments === null && !error && <Spinner label="Loading payments" />}
        {payments && payments.length === 0 && <EmptyState title="No payments yet" />}
        {payments && payments.length > 0 && (
          <table className="table" data-testid="staff-payments">
            <thead>
              <tr>
                <th>Date</th>
                <th>Type</th>
                <th>Payer</th>
                <th>Amount</th>
                <th>Refunded</th>
                <th>Status</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {payments.map((payment) => (
                <tr key={payment._id} data-testid="staff-payment-row" data-id={payment._id}>
                  <td>{formatDate(payment.created_at)}</td>
                  <td>{payment.transaction_type}</td>
                  <td title={payment.from_user_id}>{shortId(payment.from_user_id)}</td>
                  <td>{formatMoney(payment.amount, payment.currency)}</td>
                  <td data-testid="amount-refunded">
                    {formatMoney(payment.amount_refunded || "0", payment.currency)}
                  </td>
                  <td><StatusBadge status={payment.status} /></td>
                  <td>
                    {payment.status === "completed" && (
                      <button
                        type="button"
                        className="btn btn-secondary btn-sm"
                        onClick={() => setRefunding(payment)}
                      >
                        Refund
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="card staff-section">
        <h2>Disputes</h2>
        {disputes && disputes.length === 0 && <EmptyState title="No disputes" />}
        {disputes && disputes.length > 0 && (
          <table className="table" data-testid="staff-disputes">
            <thead>
              <tr>
                <th>Opened</th>
                <th>Payment</th>
                <th>Amount</th>
                <th>Reason</th>
                <th>Status</th>
                <th>Evidence due</th>
              </tr>
            </thead>
            <tbody>
              {disputes.map((dispute) => (
                <tr key={dispute.dispute_id} data-testid="staff-dispute-row">
                  <td>{formatDate(dispute.created_at)}</td>
                  <td title={dispute.payment_id}>{shortId(dispute.payment_id)}</td>
                  <td>{formatMoney(dispute.amount, dispute.currency)}</td>
                  <td>{dispute.reason}</td>
                  <td>{dispute.status}</td>
                  <td>{dispute.evidence_due_by ? formatDate(dispute.evidence_due_by) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      {refunding && (
        <RefundDialog
          payment={refunding}
          onClose={() => setRefunding(null)}
          onDone={() => {
            setRefunding(null);
            load();
          }}
        />
      )}
    </div>
  );
}

// Sums per currency are kept in integer minor units, never as floats.
function digitsOf(currency) {
  return currencyDecimals(currency.toUpperCase());
}

function ratio(part, whole) {
  return whole ? part / whole : null;
}

// Per currency: the periods' rows for the chart, and the whole range's totals.
function byCurrency(analytics) {
  const result = new Map();
  for (const period of analytics.periods || []) {
    for (const row of period.currencies || []) {
      if (!result.has(row.currency)) {
        result.set(row.currency, {
          currency: row.currency,
          rows: [],
          gross: 0,
          refunded: 0,
          started: 0,
          completed: 0,
          refundedCount: 0,
          disputedCount: 0,
        });
      }
      const entry = result.get(row.currency);
      const decimals = digitsOf(row.currency);
      entry.rows.push({ ...row, period: period.period });
      entry.gross += toMinor(row.gross, decimals) || 0;
      entry.refunded += toMinor(row.refunded, decimals) || 0;
      entry.started += row.checkouts_started;
      entry.completed += row.checkouts_completed;
      entry.refundedCount += row.refunded_count;
      entry.disputedCount += row.disputed_count;
    }
  }
  return [...result.values()].map((entry) => {
    const decimals = digitsOf(entry.currency);
    return {
      ...entry,
      gross: minorToString(entry.gross, decimals),
      refunded: minorToString(entry.refunded, decimals),
      net: minorToString(entry.gross - entry.refunded, decimals),
      conversion_rate: ratio(entry.completed, entry.started),
      refund_rate: ratio(entry.refundedCount, entry.completed),
      dispute_rate: ratio(entry.disputedCount, entry.completed),
    };
  });
}

function Figures({ analytics }) {
  const currencies = byCurrency(analytics);
  return (
    <section className="card staff-section" data-testid="staff-figures">
      <h2>Last 30 days</h2>
      {currencies.length === 0 && <p className="muted">No payments in this range yet.</p>}
      <div className="stat-grid">
        {currencies.map((total) => (
          <div key={total.currency} className="stat-card" data-testid="staff-total" data-currency={total.currency}>
            <div className="stat-label">Net ({total.currency.toUpperCase()})</div>
            <div className="stat-value">{formatMoney(total.net, total.currency)}</div>
            <div className="muted">
              Gross {formatMoney(total.gross, total.currency)} · refunded{" "}
              {formatMoney(total.refunded, total.currency)}
            </div>
            <div className="muted" data-testid="staff-rates">
              Conversion {percent(total.conversion_rate)} · refund rate {percent(total.refund_rate)} · dispute
              rate {percent(total.dispute_rate)}
            </div>
          </div>
        ))}
      </div>
      {currencies.map((total) => (
        <RevenueChart key={total.currency} currency={total.currency} rows={total.rows} />
      ))}
    </section>
  );
}

function RefundDialog({ payment, onClose, onDone }) {
  const remaining = remainingOf(payment);
  const [amount, setAmount] = useState(remaining);
  const [reason, setReason] = useState("requested_by_customer");
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setBusy(true);
    try {
      const refunded = await staffAPI.refund(payment._id, { amount, reason });
      toast({
        variant: "success",
        title: `Refunded ${formatMoney(amount, payment.currency)}`,
        description: refunded.status === "refunded" ? "The payment is fully refunded." : "Partial refund recorded.",
      });
      onDone();
    } catch (err) {
      toastError(err, "The refund failed");
      setBusy(false);
      setConfirming(false);
    }
  };

  return (
    <div className="modal-backdrop" role="presentation">
      <div className="modal card" role="dialog" aria-modal="true" aria-label="Refund payment">
        <h2>Refund payment {shortId(payment._id)}</h2>
        <p className="muted">
          Paid {formatMoney(payment.amount, payment.currency)}; up to {formatMoney(remaining, payment.currency)} can
          be refunded.
        </p>
        {!confirming ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              setConfirming(true);
            }}
          >
            <label className="field">
              <span>Amount ({payment.currency.toUpperCase()})</span>
              <input name="refund-amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
            </label>
            <label className="field">
              <span>Reason</span>
              <select name="refund-reason" value={reason} onChange={(e) => setReason(e.target.value)}>
                {REASONS.map(([value, label]) => (
                  <option key={value} value={value}>{label}</option>
                ))}
              </select>
            </label>
            <div className="actions">
              <button type="button" className="btn btn-ghost" onClick={onClose}>Cancel</button>
              <button type="submit" className="btn btn-primary">Continue</button>
            </div>
          </form>
        ) : (
          <div>
            <p data-testid="refund-confirmation">
              Refund {formatMoney(amount, payment.currency)} to the payer? This cannot be undone.
            </p>
            <div className="actions">
              <button type="button" className="btn btn-ghost" onClick={() => setConfirming(false)} disabled={busy}>
                Back
              </button>
              <button type="button" className="btn btn-danger" onClick={submit} disabled={busy}>
                {busy ? "Refunding…" : "Confirm refund"}
              </button>
            </div>
          </div>
        )}
      </div>
    </div>
  );
}
