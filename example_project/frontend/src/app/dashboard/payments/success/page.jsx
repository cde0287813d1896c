"use client";

import Link from "next/link";
import { Suspense, useCallback, useEffect, useRef, useState } from "react";
import { useSearchParams } from "next/navigation";
import { demoAPI, forgetCheckout, paymentAPI } from "@/lib/api";
import { formatMoney } from "@/lib/money";
import { useSession } from "@/components/DashboardShell";
import { toast } from "@/components/Toast";
import { ErrorAlert, PageLoader, Spinner, StatusBadge } from "@/components/ui";

// Stripe redirects here as soon as the card is accepted; the webhook may not
// have landed yet, so we ask the API to confirm and wait while it is pending.
const MAX_WAIT_MS = 20000;
const delays = [800, 1200, 1500, 2000];

const COPY = {
  checking: { icon: "…", tone: "neutral", title: "Confirming your payment…" },
  pending: { icon: "…", tone: "warning", title: "Payment is processing" },
  completed: { icon: "✓", tone: "success", title: "Payment successful" },
  failed: { icon: "!", tone: "danger", title: "Payment failed" },
  refunded: { icon: "↺", tone: "neutral", title: "Payment refunded" },
  expired: { icon: "×", tone: "neutral", title: "Checkout expired" },
  unknown: { icon: "!", tone: "danger", title: "We couldn’t confirm this payment" },
};

// Who a tip went to: the confirmation answer has no recipient, the sender's history does.
async function tipRecipientName(sessionId) {
  const [history, people] = await Promise.all([
    paymentAPI.getPaymentHistory({ type: "tip", limit: 50 }),
    demoAPI.recipients(),
  ]);
  const tip = (history.results || []).find((p) => p.stripe_session_id === sessionId);
  const person = tip && people.find((r) => String(r.profile_id) === String(tip.to_user_id));
  return person ? person.display_name || person.username : null;
}

function SuccessContent() {
  const params = useSearchParams();
  const rawId = params.get("session_id") || "";
  const sessionId = rawId.includes("CHECKOUT_SESSION_ID") ? "" : rawId;
  const { refreshUser, refreshNotifications } = useSession();
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [gaveUp, setGaveUp] = useState(false);
  const [round, setRound] = useState(0);
  const [recipientName, setRecipientName] = useState(null);
  const announced = useRef(false);

  useEffect(() => {
    if (!sessionId) return undefined;
    let cancelled = false;
    let timer = null;
    const started = Date.now();
    let attempt = 0;
    setGaveUp(false);
    setError(null);

    const poll = async () => {
      try {
        const data = await paymentAPI.confirmCheckout(sessionId);
        if (cancelled) return;
        setResult(data);
        if (data.status !== "pending") return;
        if (Date.now() - started >= MAX_WAIT_MS) {
          setGaveUp(true);
          return;
        }
        timer = setTimeout(poll, delays[Math.min(attempt++, delays.length - 1)]);
      } catch (err) {
        // Shown once, in the page: a toast would repeat it.
        if (!cancelled) setError(err);
      }
    };
    poll();
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [sessionId, round]);

  // Without an answer, an error means there is nothing left to wait for.
  const status = result?.status || (error ? "unknown" : "checking");
  const isTip = result?.transaction_type === "tip";

  useEffect(() => {
    if (!isTip || !sessionId) return undefined;
    let live = true;
    tipRecipientName(sessionId)
      .then((name) => live && setRecipientName(name))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [isTip, sessionId]);

  useEffect(() => {
    if (status !== "completed" || announced.current) return;
    announced.current = true;
    forgetCheckout(sessionId);
    refreshUser();
    refreshNotifications();
    toast({
      variant: "success",
      title: isTip ? "Tip sent — thank you!" : "Welcome to Premium!",
    });
  }, [status, isTip, sessionId, refreshUser, refreshNotifications]);

  if (!sessionId) {
    return (
      <div className="card narrow text-center">
        <div className="result-icon result-neutral" aria-hidden="true">?</div>
        <h1>No checkout to confirm</h1>
        <ErrorAlert title="This page needs a checkout session id.">
          Open it from the link Stripe redirects to after paying.
        </ErrorAlert>
        <div className="button-row center">
          <Link className="btn btn-primary" href="/dashboard/subscription/">
            Go to Subscription Settings
          </Link>
        </div>
      </div>
    );
  }

  const copy = COPY[status] || COPY.pending;
  const heading =
    status === "completed" ? (isTip ? "Tip sent!" : "You’re Premium now") : copy.title;

  return (
    <div className="card narrow text-center success-card">
      <div className={`result-icon result-${copy.tone}`} aria-hidden="true">
        {status === "checking" || (status === "pending" && !gaveUp) ? <Spinner size="md" /> : copy.icon}
      </div>
      <h1>{heading}</h1>
      <p className="muted">
        {status === "completed" &&
          (isTip
            ? `Your tip of ${formatMoney(result.amount, result.currency)}${recipientName ? ` to ${recipientName}` : ""} is on its way.`
            : `Thanks! ${formatMoney(result.amount, result.currency)} was paid and Premium is unlocked.`)}
        {status === "checking" && "Checking the session with Stripe."}
        {status === "pending" &&
          (gaveUp
            ? "Stripe has not confirmed this payment yet. It usually takes a few seconds; check again shortly."
            : "Waiting for Stripe to confirm the payment…")}
        {status === "failed" && "The payment did not go through. No money was taken; you can try again."}
        {status === "refunded" && "This payment has been refunded."}
        {status === "expired" && "This checkout was cancelled or ran out of time before payment. Nothing was charged."}
        {status === "unknown" &&
          (error?.status === 404
            ? "There is no payment of yours for this checkout session."
            : "Its status could not be loaded just now.")}
      </p>

      <dl className="details details-compact">
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge
              status={status === "checking" ? "checking" : status}
              data-testid="checkout-status"
              aria-live="polite"
            />
          </dd>
        </div>
        {result?.transaction_type && (
          <div>
            <dt>Type</dt>
            <dd>{isTip ? "Tip" : "Premium"}</dd>
          </div>
        )}
        {isTip && recipientName && (
          <div>
            <dt>To</dt>
            <dd data-testid="tip-recipient">{recipientName}</dd>
          </div>
        )}
        {result?.amount != null && (
          <div>
            <dt>Amount</dt>
            <dd>{formatMoney(result.amount, result.currency)}</dd>
          </div>
        )}
        <div>
          <dt>Session</dt>
          <dd>
            <code className="mono" data-testid="session-id">{sessionId}</code>
          </dd>
        </div>
      </dl>

      {error && (
        <ErrorAlert title={error.message}>{error.detail}</ErrorAlert>
      )}

      <div className="button-row center">
        {(gaveUp || error) && (
          <button type="button" className="btn btn-secondary" onClick={() => setRound((r) => r + 1)}>
            Check again
          </button>
        )}
        {status === "failed" && (
          <Link className="btn btn-secondary" href={isTip ? "/dashboard/tips/" : "/dashboard/subscription/create/"}>
            Try again
          </Link>
        )}
        {isTip && (
          <Link className="btn btn-secondary" href="/dashboard/tips/">
            View tip history
          </Link>
        )}
        <Link className="btn btn-primary" href="/dashboard/subscription/">
          Go to Subscription Settings
        </Link>
      </div>
    </div>
  );
}

export default function PaymentSuccessPage() {
  return (
    <>
      <Suspense fallback={<PageLoader label="Loading…" />}>
        <SuccessContent />
      </Suspense>
    </>
  );
}
