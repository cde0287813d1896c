"use client";

import Link from "next/link";
import { useCallback, useEffect, useMemo, useState } from "react";
import { checkoutUrls, demoAPI, paymentAPI, rememberCheckout } from "@/lib/api";
import { formatDate, shortId } from "@/lib/format";
import { displayStatus, paidTotals } from "@/lib/status";
import {
  currencySymbol,
  formatMoney,
  minorToString,
  termsFor,
  tipPresets,
  TIP_MESSAGE_MAX,
  toMinor,
  validateTip,
} from "@/lib/money";
import CurrencyPicker from "@/components/CurrencyPicker";
import { useSession } from "@/components/DashboardShell";
import { toastError } from "@/components/Toast";
import { EmptyState, ErrorAlert, PageHeader, Spinner, StatusBadge } from "@/components/ui";

const PAYOUT_LABELS = {
  destination: "Paying out to the recipient",
  held: "Held until the recipient sets up payouts",
  paid_out: "Paid out to the recipient",
  reversed: "Payout reversed",
};

export default function TipsPage() {
  const { user } = useSession();
  const [recipients, setRecipients] = useState(null);
  const [recipientsError, setRecipientsError] = useState(null);
  const [history, setHistory] = useState(null);
  const [historyError, setHistoryError] = useState(null);

  const [priceList, setPriceList] = useState(null);
  const [currency, setCurrency] = useState("");
  const [recipient, setRecipient] = useState("");
  const [amount, setAmount] = useState("");
  const [message, setMessage] = useState("");
  const [fieldErrors, setFieldErrors] = useState({});
  const [submitError, setSubmitError] = useState(null);
  const [submitting, setSubmitting] = useState(false);

  const loadRecipients = useCallback(async () => {
    setRecipientsError(null);
    try {
      setRecipients(await demoAPI.recipients());
    } catch (err) {
      setRecipientsError(err);
    }
  }, []);

  const loadHistory = useCallback(async () => {
    setHistoryError(null);
    try {
      setHistory(await paymentAPI.getTipHistory({ limit: 50 }));
    } catch (err) {
      setHistoryError(err);
      toastError(err, "Could not load tip history");
    }
  }, []);

  useEffect(() => {
    loadRecipients();
    loadHistory();
    paymentAPI
      .getPriceList()
      .then((prices) => {
        setPriceList(prices);
        setCurrency((chosen) => chosen || prices.default_currency);
      })
      .catch((err) => toastError(err, "Could not load the currencies"));
  }, [loadRecipients, loadHistory]);

  const terms = termsFor(priceList, currency || priceList?.default_currency);
  const presets = tipPresets(terms);

  // Back from Stripe's page may restore this page as it was left: "Opening checkout…".
  useEffect(() => {
    const onShow = (e) => {
      if (!e.persisted) return;
      setSubmitting(false);
      loadHistory();
    };
    window.addEventListener("pageshow", onShow);
    return () => window.removeEventListener("pageshow", onShow);
  }, [loadHistory]);

  // You cannot tip yourself, so you are not offered as a recipient.
  const choices = useMemo(
    () => (recipients || []).filter((r) => !user?.profile_id || String(r.profile_id) !== String(user.profile_id)),
    [recipients, user],
  );
  const names = useMemo(() => {
    const map = new Map((recipients || []).map((r) => [String(r.profile_id), r.display_name || r.username]));
    if (user?.profile_id) map.set(String(user.profile_id), "You");
    return map;
  }, [recipients, user]);
  const nameOf = (id) => names.get(String(id)) || `User ${shortId(id)}`;

  function update(setter, field) {
    return (e) => {
      setter(e.target.value);
      if (fieldErrors[field]) setFieldErrors((f) => ({ ...f, [field]: undefined }));
    };
  }

  async function onSubmit(e) {
    e.preventDefault();
    setSubmitError(null);
    const errors = validateTip({ recipient, amount, message }, terms);
    setFieldErrors(errors);
    if (Object.keys(errors).length) return;
    setSubmitting(true);
    try {
      const { successUrl, cancelUrl } = checkoutUrls("/dashboard/tips/");
      // Sent as a decimal string ("12.50", "500"): exactly what the user typed, no float.
      const value = minorToString(toMinor(amount.trim(), terms.decimals), terms.decimals);
      const { session_id: sessionId, url } = await paymentAPI.createTipCheckout(
        recipient, value, message.trim(), successUrl, cancelUrl, priceList ? terms.currency : undefined,
      );
      rememberCheckout(sessionId);
      window.location.href = url;
    } catch (err) {
      setSubmitError(err);
      toastError(err, "Could not start the tip checkout");
      setSubmitting(false);
    }
  }

  const errorList = Object.values(fieldErrors).filter(Boolean);
  const selected = choices.find((r) => String(r.profile_id) === recipient);

  return (
    <>
      <PageHeader
        title="Tips"
        subtitle="Say thanks to someone who taught you something. Tips go straight to them."
      />

      <div className="grid grid-tips">
        <form className="card tip-form" onSubmit={onSubmit} noValidate aria-label="Send a tip">
          <h2>Send a tip</h2>

          {(errorList.length > 0 || submitError) && (
            <ErrorAlert title={submitError ? submitError.message : "Check the tip details"}>
              {submitError ? submitError.detail : errorList.join(" ")}
            </ErrorAlert>
          )}

          <div className="field">
            <label htmlFor="recipient">Recipient</label>
            {recipients === null && !recipientsError ? (
              <div className="field-loading"><Spinner size="sm" /> Loading people…</div>
            ) : recipientsError ? (
              <div className="field-problem">
                Could not load recipients: {recipientsError.message}{" "}
                <button type="button" className="link-btn" onClick={loadRecipients}>Retry</button>
              </div>
            ) : null}
            <select
              id="recipient"
              name="recipient"
              value={recipient}
              onChange={update(setRecipient, "recipient")}
              disabled={!recipients || submitting}
              aria-invalid={!!fieldErrors.recipient}
              aria-describedby={fieldErrors.recipient ? "recipient-error" : undefined}
              hidden={recipients === null}
            >
              <option value="">{choices.length ? "Choose a person…" : "No one to tip yet"}</option>
              {choices.map((r) => (
                <option key={r.profile_id} value={r.profile_id}>
                  {r.display_name || r.username} (@{r.username})
                </option>
              ))}
            </select>
            {fieldErrors.recipient && <p className="field-error" id="recipient-error">{fieldErrors.recipient}</p>}
          </div>

          <CurrencyPicker
            id="tip-currency"
            priceList={priceList}
            value={terms.currency}
            onChange={(code) => {
              setCurrency(code);
              setAmount("");
              setFieldErrors((f) => ({ ...f, amount: undefined }));
            }}
            disabled={submitting}
          />

          <div className="field">
            <label htmlFor="amount">Amount ({terms.currency.toUpperCase()})</label>
            <div className="input-prefix">
              <span aria-hidden="true">{currencySymbol(terms.currency)}</span>
              <input
                id="amount"
                name="amount"
                inputMode="decimal"
                autoComplete="off"
                placeholder={presets[1]}
                value={amount}
                onChange={update(setAmount, "amount")}
                disabled={submitting}
                aria-invalid={!!fieldErrors.amount}
                aria-describedby={fieldErrors.amount ? "amount-error" : "amount-hint"}
              />
            </div>
            <div className="chips" role="group" aria-label="Suggested amounts">
              {presets.map((p) => (
                <button
                  key={p}
                  type="button"
                  className={`chip ${amount === p ? "chip-on" : ""}`}
                  onClick={() => {
                    setAmount(p);
                    setFieldErrors((f) => ({ ...f, amount: undefined }));
                  }}
                  disabled={submitting}
                >
                  {formatMoney(p, terms.currency)}
                </button>
              ))}
            </div>
            {fieldErrors.amount ? (
              <p className="field-error" id="amount-error">{fieldErrors.amount}</p>
            ) : (
              <p className="field-hint" id="amount-hint">
                Between {formatMoney(terms.tip_min, terms.currency)} and {formatMoney(terms.tip_max, terms.currency)}.
              </p>
            )}
          </div>

          <div className="field">
            <label htmlFor="message">
              Message <span className="optional">(optional)</span>
            </label>
            <textarea
              id="message"
              name="message"
              rows={3}
              placeholder="Thanks for the great session!"
              value={message}
              onChange={update(setMessage, "message")}
              disabled={submitting}
              aria-invalid={!!fieldErrors.message}
              aria-describedby="message-count"
            />
            <div className={`counter ${message.length > TIP_MESSAGE_MAX ? "over" : ""}`} id="message-count">
              {message.length}/{TIP_MESSAGE_MAX}
            </div>
            {fieldErrors.message && <p className="field-error">{fieldErrors.message}</p>}
          </div>

          <button type="submit" className="btn btn-primary btn-block" disabled={submitting || !recipients}>
            {submitting && <Spinner size="sm" label="Starting checkout" />}
            {submitting ? "Opening checkout…" : "Send tip"}
          </button>
          <p className="hint">
            {selected && toMinor(amount, terms.decimals) ? (
              <>You’ll tip <strong>{selected.display_name || selected.username}</strong> {formatMoney(amount, terms.currency)} on Stripe’s secure page.</>
            ) : (
              "You’ll confirm and pay on Stripe’s secure checkout page."
            )}
          </p>
        </form>

        <div className="stack">
          {historyError && (
            <ErrorAlert
              title={historyError.message}
              action={<button type="button" className="btn btn-secondary btn-sm" onClick={loadHistory}>Try again</button>}
            >
              {historyError.detail}
            </ErrorAlert>
          )}
          <TipList
            title="Sent"
            testId="tips-sent"
            loading={!history && !historyError}
            items={history?.tips_sent}
            total={history?.total_sent}
            sums={(history?.totals_by_currency || []).map((t) => [t.currency, t.amount_sent])}
            zeroCurrency={terms.currency}
            who={(t) => `To ${nameOf(t.to_user_id)}`}
            empty={<EmptyState icon="↗" title="No tips sent yet">Your first tip will show up here.</EmptyState>}
          />
          <TipList
            title="Received"
            id="received"
            testId="tips-received"
            loading={!history && !historyError}
            items={history?.tips_received}
            total={history?.total_received}
            sums={(history?.totals_by_currency || []).map((t) => [t.currency, t.amount_received])}
            zeroCurrency={terms.currency}
            who={(t) => `From ${nameOf(t.from_user_id)}`}
            empty={<EmptyState icon="↙" title="No tips received yet">Share your skills and thanks will follow.</EmptyState>}
          />
          <p className="small muted">
            Need receipts? See the full <Link href="/dashboard/payments/?type=tip">payment history</Link>.
          </p>
        </div>
      </div>
    </>
  );
}

function TipList({ title, id, testId, loading, items, total, sums, zeroCurrency, who, empty }) {
  const list = items || [];
  // Only paid tips count: abandoned and expired checkouts moved no money.
  const paid = paidTotals(list);
  // The server sums each currency on its own; different currencies are never added up.
  const amounts = sums.filter(([, sum]) => toMinor(sum, 3) > 0);
  const partial = typeof total === "number" && total > list.length;
  return (
    <section className="card" id={id} aria-label={`Tips ${title.toLowerCase()}`}>
      <div className="card-head">
        <h2>{title}</h2>
        {!loading && (
          <div className="totals" data-testid={`${testId}-total`}>
            <strong>{paid.count}</strong> paid {paid.count === 1 ? "tip" : "tips"}
            <span className="dot-sep">·</span>
            {amounts.length ? (
              amounts.map(([code, sum], index) => (
                <span key={code} data-testid={`${testId}-total-${code}`}>
                  {index > 0 && <span className="dot-sep">·</span>}
                  <strong>{formatMoney(sum, code)}</strong>
                </span>
              ))
            ) : (
              <strong>{formatMoney(0, zeroCurrency)}</strong>
            )}
            {partial && <span className="muted"> (latest {list.length})</span>}
          </div>
        )}
      </div>
      <div data-testid={testId}>
        {loading ? (
          <div className="list-loading"><Spinner size="sm" /> Loading…</div>
        ) : list.length === 0 ? (
          empty
        ) : (
          <ul className="tx-list">
            {list.map((t) => (
              <li key={t._id} className="tx" data-testid="tip-item" data-status={displayStatus(t)}>
                <div className="tx-main">
                  <div className="tx-title">{who(t)}</div>
                  {t.message && <div className="tx-message">“{t.message}”</div>}
                  <div className="tx-meta muted">{formatDate(t.created_at)}</div>
                  {t.payout_status && <div className="tx-meta muted" data-testid="tip-payout">{PAYOUT_LABELS[t.payout_status] || t.payout_status}</div>}
                </div>
                <div className="tx-side">
                  <div className="tx-amount">{formatMoney(t.amount, t.currency)}</div>
                  <StatusBadge status={displayStatus(t)} />
                </div>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
