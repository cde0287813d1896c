"use client";

import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { useRouter } from "next/navigation";
import { checkoutUrls, paymentAPI, rememberCheckout } from "@/lib/api";
import { formatMoney, termsFor } from "@/lib/money";
import { toastError } from "@/components/Toast";
import { ErrorAlert, Spinner } from "@/components/ui";

const RETURN_AFTER_S = 3;

export default function CreateCheckoutPage() {
  const router = useRouter();
  const started = useRef(false);
  const [error, setError] = useState(null);
  const [countdown, setCountdown] = useState(RETURN_AFTER_S);
  const [redirecting, setRedirecting] = useState(false);
  const [price, setPrice] = useState(null);

  useEffect(() => {
    // Strict mode mounts effects twice in development; start one checkout only.
    if (started.current) return;
    started.current = true;
    const { successUrl, cancelUrl } = checkoutUrls("/dashboard/subscription/");
    // Chosen on the subscription page; none means the site's default currency.
    const currency = new URLSearchParams(window.location.search).get("currency") || undefined;
    paymentAPI
      .getPriceList()
      .then((prices) => {
        const terms = termsFor(prices, currency || prices.default_currency);
        setPrice(formatMoney(terms.premium_price, terms.currency));
      })
      .catch(() => {}); // only the line below the spinner needs it
    paymentAPI
      .createPremiumCheckout(successUrl, cancelUrl, currency)
      .then(({ session_id: sessionId, url }) => {
        if (!url) throw Object.assign(new Error("Checkout did not return a payment page"), { detail: null });
        rememberCheckout(sessionId);
        setRedirecting(true);
        // replace(), not assign(): this page starts a checkout as soon as it opens,
        // so Back from Stripe's page must skip it and land on the subscription page.
        window.location.replace(url);
      })
      .catch((err) => {
        setError(err);
        toastError(err, "Failed to start checkout process");
      });
  }, []);

  useEffect(() => {
    if (!error) return undefined;
    if (countdown <= 0) {
      router.replace("/dashboard/subscription/");
      return undefined;
    }
    const t = setTimeout(() => setCountdown((c) => c - 1), 1000);
    return () => clearTimeout(t);
  }, [error, countdown, router]);

  return (
    <>
      <div className="card narrow text-center checkout-card">
        {error ? (
          <>
            <div className="result-icon result-danger" aria-hidden="true">!</div>
            <h1>We couldn’t start checkout</h1>
            <ErrorAlert title={error.message}>{error.detail}</ErrorAlert>
            <p className="muted" aria-live="polite">
              Returning to your subscription in {Math.max(countdown, 0)} s…
            </p>
            <div className="button-row center">
              <Link className="btn btn-secondary" href="/dashboard/subscription/">
                Back to Subscription
              </Link>
            </div>
          </>
        ) : (
          <>
            <Spinner size="lg" label="Preparing checkout" />
            <h1>{redirecting ? "Redirecting to secure checkout…" : "Preparing your checkout…"}</h1>
            <p className="muted">
              SkillSwap Premium{price && <> · <strong>{price}</strong> one-time</>}. You’ll pay on Stripe’s secure page.
            </p>
          </>
        )}
      </div>
    </>
  );
}
