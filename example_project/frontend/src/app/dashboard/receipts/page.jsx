"use client";

import { useCallback, useEffect, useState } from "react";
import { demoAPI } from "@/lib/api";
import { formatDate } from "@/lib/format";
import { EmptyState, ErrorAlert, PageHeader, Spinner } from "@/components/ui";

// The receipt emails the payments app sent to you. The demo writes mail to files instead of
// sending it; this page reads them back.
export default function ReceiptsPage() {
  const [receipts, setReceipts] = useState(null);
  const [error, setError] = useState(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      setReceipts(await demoAPI.receipts());
    } catch (err) {
      setError(err);
    }
  }, []);

  useEffect(() => {
    load();
  }, [load]);

  return (
    <div>
      <PageHeader title="Receipts" subtitle="Emails sent to you when a payment completes" />
      {error && (
        <ErrorAlert title="Could not load receipts" action={<button type="button" className="btn btn-secondary btn-sm" onClick={load}>Retry</button>}>
          {error.message}
        </ErrorAlert>
      )}
      {!error && receipts === null && <Spinner label="Loading receipts" />}
      {receipts && receipts.length === 0 && (
        <EmptyState icon="✉" title="No receipts yet">
          Buy Premium or send a tip: the receipt shows up here.
        </EmptyState>
      )}
      {receipts && receipts.length > 0 && (
        <ul className="receipt-list">
          {receipts.map((receipt, index) => (
            <li key={`${receipt.date}-${index}`} className="card" data-testid="receipt">
              <div className="receipt-head">
                <strong data-testid="receipt-subject">{receipt.subject}</strong>
                <span className="muted">{receipt.date ? formatDate(receipt.date) : ""}</span>
              </div>
              <pre className="receipt-body" data-testid="receipt-body">{receipt.text}</pre>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
