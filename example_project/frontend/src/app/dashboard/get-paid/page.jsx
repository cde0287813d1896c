"use client";

import { useCallback, useEffect, useState } from "react";
import { connectAPI, paymentAPI } from "@/lib/api";
import { formatDate } from "@/lib/format";
import { formatMoney } from "@/lib/money";
import { toastError } from "@/components/Toast";
import { Badge, EmptyState, ErrorAlert, PageHeader, Spinner } from "@/components/ui";

const PAYOUTS = {
  destination: { label: "Paying out", tone: "warning" },
  held: { label: "Held for you", tone: "warning" },
  paid_out: { label: "Paid out", tone: "success" },
  reversed: { label: "Reversed", tone: "neutral" },
};

function pageUrl(query) {
  return `${window.location.origin}/dashboard/get-paid/?${query}`;
}

export default function GetPaidPage() {
  const [status, setStatus] = useState(null);
  const [statusError, setStatusError] = useState(null);
  const [tips, setTips] = useState(null);
  const [starting, setStarting] = useState(false);
  const [notice, setNotice] = useState(null);

  const load = useCallback(async () => {
    setStatusError(null);
    try {
      setStatus(await connectAPI.status());
    } catch (err) {
      setStatusError(err);
    }
    try {
      setTips((await paymentAPI.getTipHistory({ limit: 50 })).tips_received);
    } catch (err) {
      toastError(err, "Could not load the tips you received");
    }
  }, []);

  useEffect(() => {
    const onboarding = new URLSearchParams(window.location.search).get("onboarding");
    if (onboarding === "expired") setNotice("That onboarding link has expired. Start again below.");
    if (onboarding === "returned") setNotice("Welcome back. Your payout status is below.");
    load();
  }, [load]);

  async function onboard() {
    setStarting(true);
    try {
      const { url } = await connectAPI.onboard(pageUrl("onboarding=expired"), pageUrl("onboarding=returned"));
      window.location.href = url;
    } catch (err) {
      toastError(err, "Could not start onboarding");
      setStarting(false);
    }
  }

  const ready = status?.charges_enabled;
  return (
    <>
      <PageHeader
        title="Get paid"
        subtitle="Set up payouts so the tips you receive reach your own account."
      />
      {notice && <p className="card small" data-testid="onboarding-notice">{notice}</p>}

      <div className="grid grid-tips">
        <section className="card" aria-label="Payout account" data-testid="payout-account">
          <h2>Payout account</h2>
          {statusError ? (
            <ErrorAlert title={statusError.message}>
              {statusError.status === 404 ? "Payouts are not enabled on this site." : statusError.detail}
            </ErrorAlert>
          ) : status === null ? (
            <div className="list-loading"><Spinner size="sm" /> Loading…</div>
          ) : (
            <>
              <p data-testid="payout-state">
                {ready ? (
                  <Badge tone="success">Ready to receive tips</Badge>
                ) : status.account_id ? (
                  <Badge tone="warning">Onboarding not finished</Badge>
                ) : (
                  <Badge tone="neutral">Not set up</Badge>
                )}
              </p>
              {status.account_id && (
                <ul className="small muted">
                  <li>Account <code data-testid="account-id">{status.account_id}</code></li>
                  <li>Details submitted: {status.details_submitted ? "yes" : "no"}</li>
                  <li>Payouts to your bank: {status.payouts_enabled ? "enabled" : "not yet"}</li>
                  {status.requirements_due.length > 0 && (
                    <li>Still needed: {status.requirements_due.join(", ")}</li>
                  )}
                </ul>
              )}
              {!ready && (
                <button
                  type="button"
                  id="connect-onboard"
                  className="btn btn-primary btn-block"
                  onClick={onboard}
                  disabled={starting}
                >
                  {starting && <Spinner size="sm" label="Opening onboarding" />}
                  {status.account_id ? "Continue onboarding" : "Set up payouts"}
                </button>
              )}
            </>
          )}
        </section>

        <section className="card" aria-label="Tips received" data-testid="received-payouts">
          <h2>Tips received</h2>
          {tips === null ? (
            <div className="list-loading"><Spinner size="sm" /> Loading…</div>
          ) : tips.length === 0 ? (
            <EmptyState icon="↙" title="No tips received yet">Tips you receive and what you were paid show here.</EmptyState>
          ) : (
            <ul className="tx-list">
              {tips.map((t) => {
                const payout = PAYOUTS[t.payout_status];
                return (
                  <li key={t._id} className="tx" data-testid="payout-item" data-payout={t.payout_status || "none"}>
                    <div className="tx-main">
                      <div className="tx-title">Tip of {formatMoney(t.amount, t.currency)}</div>
                      {t.application_fee !== undefined && (
                        <div className="tx-meta muted" data-testid="payout-fee">
                          Platform fee {formatMoney(t.application_fee, t.currency)}
                        </div>
                      )}
                      <div className="tx-meta muted">{formatDate(t.created_at)}</div>
                    </div>
                    <div className="tx-side">
                      <div className="tx-amount" data-testid="payout-amount">
                        {t.payout_amount !== undefined ? formatMoney(t.payout_amount, t.currency) : "—"}
                      </div>
                      {payout ? <Badge tone={payout.tone}>{payout.label}</Badge> : <Badge tone="neutral">{t.status}</Badge>}
                    </div>
                  </li>
                );
              })}
            </ul>
          )}
        </section>
      </div>
    </>
  );
}
