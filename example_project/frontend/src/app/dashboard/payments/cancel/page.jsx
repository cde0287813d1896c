"use client";

import Link from "next/link";
import { Suspense, useEffect, useState } from "react";
import { useRouter, useSearchParams } from "next/navigation";
import { checkoutReturnPath, lastCheckout, paymentAPI } from "@/lib/api";
import { formatMoney } from "@/lib/money";
import { ErrorAlert, PageLoader, Spinner, StatusBadge } from "@/components/ui";

// Leaving Stripe's page does not end the Checkout Session: until it expires it
// could still be paid, and its payment would stay "pending". So this page
// expires it through the API, and the payment is recorded as expired.
function CancelContent() {
  const router = useRouter();
  const params = useSearchParams();
  const [sessionId, setSessionId] = useState(undefined);
  const [state, setState] = useState({ phase: "cancelling" });
  const [round, setRound] = useState(0);

  useEffect(() => {
    setSessionId(params.get("session_id") || lastCheckout() || null);
  }, [params]);

  useEffect(() => {
    if (sessionId === undefined) return undefined;
    if (!sessionId) {
      setState({ phase: "none" });
      return undefined;
    }
    let live = true;
    setState({ phase: "cancelling" });
    paymentAPI
      .cancelCheckout(sessionId)
      .then((data) => live && setState({ phase: "expired", payment: data }))
      .catch((err) => {
        if (!live) return;
        if (err.status === 409) setState({ phase: "paid" });
        else if (err.status === 404) setState({ phase: "none" });
        else setState({ phase: "error", error: err });
      });
    return () => {
      live = false;
    };
  }, [sessionId, round]);

  function goBack() {
    // Not history.back(): that would return to the abandoned Stripe page.
    router.push(checkoutReturnPath());
  }

  const { phase, payment, error } = state;
  const typeLabel = { tip: "Tip", premium: "Premium" }[payment?.transaction_type];

  if (phase === "paid") {
    return (
      <div className="card narrow text-center" data-testid="cancel-card" data-phase={phase}>
        <div className="result-icon result-success" aria-hidden="true">✓</div>
        <h1>This payment already went through</h1>
        <p className="muted">You left the checkout page after paying, so the payment stands.</p>
        <div className="button-row center">
          <Link
            className="btn btn-primary"
            href={`/dashboard/payments/success/?session_id=${encodeURIComponent(sessionId)}`}
          >
            See the payment
          </Link>
        </div>
      </div>
    );
  }

  return (
    <div className="card narrow text-center" data-testid="cancel-card" data-phase={phase}>
      <div className="result-icon result-neutral" aria-hidden="true">
        {phase === "cancelling" ? <Spinner size="md" label="Cancelling checkout" /> : "×"}
      </div>
      <h1>Payment cancelled</h1>
      <p className="muted">
        You left checkout before paying, so nothing was charged
        {phase === "expired" ? " and this checkout is closed" : ""}. You can start again whenever you like.
      </p>

      {phase === "expired" && (
        <dl className="details details-compact">
          <div>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={payment?.status || "expired"} data-testid="checkout-status" />
            </dd>
          </div>
          {typeLabel && (
            <div>
              <dt>Type</dt>
              <dd>{typeLabel}</dd>
            </div>
          )}
          {payment?.amount != null && (
            <div>
              <dt>Amount</dt>
              <dd>{formatMoney(payment.amount, payment.currency)}</dd>
            </div>
          )}
        </dl>
      )}
      {phase === "error" && (
        <ErrorAlert
          title={error.message}
          action={
            <button type="button" className="btn btn-secondary btn-sm" onClick={() => setRound((r) => r + 1)}>
              Try again
            </button>
          }
        >
          {error.detail || "The checkout could not be closed; it expires on its own within a day."}
        </ErrorAlert>
      )}

      <div className="button-row center">
        <button type="button" className="btn btn-secondary" onClick={goBack}>
          Go back
        </button>
        <Link className="btn btn-primary" href="/dashboard/">
          Back to dashboard
        </Link>
      </div>
      <p className="small muted">
        Looking for something else? <Link href="/dashboard/subscription/">Premium</Link> ·{" "}
        <Link href="/dashboard/tips/">Tips</Link> · <Link href="/dashboard/payments/">Payment history</Link>
      </p>
    </div>
  );
}

export default function PaymentCancelPage() {
  return (
    <Suspense fallback={<PageLoader label="Loading…" />}>
      <CancelContent />
    </Suspense>
  );
}
