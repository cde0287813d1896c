"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { checkoutReturnPath } from "@/lib/api";

export default function PaymentCancelPage() {
  const router = useRouter();

  function goBack() {
    // Not history.back(): that would return to the abandoned Stripe page.
    router.push(checkoutReturnPath());
  }

  return (
    <>
      <div className="card narrow text-center" data-testid="cancel-card">
        <div className="result-icon result-neutral" aria-hidden="true">×</div>
        <h1>Payment cancelled</h1>
        <p className="muted">
          You left checkout before paying, so nothing was charged. You can pick up where you left
          off whenever you like.
        </p>
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
    </>
  );
}
