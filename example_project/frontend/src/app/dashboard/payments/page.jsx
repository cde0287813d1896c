"use client";

import { Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useSearchParams } from "next/navigation";
import { demoAPI, paymentAPI } from "@/lib/api";
import { formatDate, shortId } from "@/lib/format";
import { displayStatus } from "@/lib/status";
import { formatMoney } from "@/lib/money";
import { useSession } from "@/components/DashboardShell";
import { toastError } from "@/components/Toast";
import { EmptyState, ErrorAlert, PageHeader, PageLoader, Spinner, StatusBadge } from "@/components/ui";

const PAGE_SIZE = 20;
const EMPTY_FILTERS = { type: "", status: "", created_from: "", created_to: "" };
const TYPES = [
  ["", "All types"],
  ["premium", "Premium"],
  ["tip", "Tips"],
];
const STATUSES = [
  ["", "Any status"],
  ["completed", "Completed"],
  ["pending", "Pending"],
  ["failed", "Failed"],
  ["refunded", "Refunded"],
  ["expired", "Expired"],
];

// The date inputs name days of the user's calendar; the API takes instants.
// From = the start of that day, To = the start of the day after it (exclusive),
// so From = To = today lists everything made today, in the user's time zone.
function localDayStart(isoDate, addDays = 0) {
  const [year, month, day] = isoDate.split("-").map(Number);
  return new Date(year, month - 1, day + addDays).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function apiFilters({ created_from: from, created_to: to, ...rest }) {
  return {
    ...rest,
    created_from: from ? localDayStart(from) : undefined,
    created_to: to ? localDayStart(to, 1) : undefined,
  };
}

function PaymentHistory() {
  const params = useSearchParams();
  const { user } = useSession();
  const initial = useMemo(
    () => ({
      ...EMPTY_FILTERS,
      type: ["premium", "tip"].includes(params.get("type")) ? params.get("type") : "",
    }),
    [params],
  );
  const [draft, setDraft] = useState(initial);
  const [filters, setFilters] = useState(initial);
  const [rows, setRows] = useState([]);
  const [nextBefore, setNextBefore] = useState(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState(null);
  const [formError, setFormError] = useState(null);
  const [names, setNames] = useState(new Map());
  const requestId = useRef(0);

  useEffect(() => {
    demoAPI
      .recipients()
      .then((list) => setNames(new Map(list.map((r) => [String(r.profile_id), r.display_name || r.username]))))
      .catch(() => {});
  }, []);

  const fetchPage = useCallback(async (active, before) => {
    const id = ++requestId.current;
    const data = await paymentAPI.getPaymentHistory({ ...apiFilters(active), limit: PAGE_SIZE, before });
    // Ignore answers to filters the user has since changed.
    if (id !== requestId.current) return null;
    return data;
  }, []);

  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    fetchPage(filters)
      .then((data) => {
        if (!live || !data) return;
        setRows(data.results || []);
        setNextBefore(data.next_before || null);
      })
      .catch((err) => {
        if (!live) return;
        setError(err);
        setRows([]);
        setNextBefore(null);
        toastError(err, "Could not load payments");
      })
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [filters, fetchPage]);

  async function loadMore() {
    setLoadingMore(true);
    try {
      const data = await fetchPage(filters, nextBefore);
      if (data) {
        setRows((r) => [...r, ...(data.results || [])]);
        setNextBefore(data.next_before || null);
      }
    } catch (err) {
      toastError(err, "Could not load more payments");
    } finally {
      setLoadingMore(false);
    }
  }

  function apply(e) {
    e.preventDefault();
    if (draft.created_from && draft.created_to && draft.created_from > draft.created_to) {
      setFormError("The start date must be on or before the end date.");
      return;
    }
    setFormError(null);
    setFilters({ ...draft });
  }

  function reset() {
    setFormError(null);
    setDraft(EMPTY_FILTERS);
    setFilters(EMPTY_FILTERS);
  }

  const set = (key) => (e) => setDraft((d) => ({ ...d, [key]: e.target.value }));
  const filtered = Object.values(filters).some(Boolean);
  const nameOf = (id) => names.get(String(id)) || `user ${shortId(id)}`;

  function describe(p) {
    if (p.transaction_type === "premium") return "SkillSwap Premium";
    if (p.transaction_type === "tip") {
      const mine = user?.profile_id && String(p.from_user_id) === String(user.profile_id);
      return mine || !user ? `Tip to ${nameOf(p.to_user_id)}` : `Tip from ${nameOf(p.from_user_id)}`;
    }
    return p.transaction_type ? p.transaction_type.charAt(0).toUpperCase() + p.transaction_type.slice(1) : "Payment";
  }

  return (
    <>
      <form className="card filters" onSubmit={apply} aria-label="Filter payments">
        <div className="field">
          <label htmlFor="f-type">Type</label>
          <select id="f-type" name="type" value={draft.type} onChange={set("type")}>
            {TYPES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-status">Status</label>
          <select id="f-status" name="status" value={draft.status} onChange={set("status")}>
            {STATUSES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-from">From</label>
          <input id="f-from" name="created_from" type="date" value={draft.created_from} onChange={set("created_from")} />
        </div>
        <div className="field">
          <label htmlFor="f-to">To</label>
          <input id="f-to" name="created_to" type="date" value={draft.created_to} onChange={set("created_to")} />
        </div>
        <div className="filter-actions">
          <button type="submit" className="btn btn-primary">Apply filters</button>
          <button type="button" className="btn btn-ghost" onClick={reset}>Reset</button>
        </div>
      </form>

      {formError && <ErrorAlert title={formError} />}
      {error && <ErrorAlert title={error.message}>{error.detail}</ErrorAlert>}

      <section className="card table-card">
        {loading ? (
          <div className="list-loading"><Spinner size="sm" /> Loading payments…</div>
        ) : rows.length === 0 ? (
          !error && (
            <EmptyState
              icon="🧾"
              title={filtered ? "No payments match these filters" : "No payments yet"}
              action={
                filtered && (
                  <button type="button" className="btn btn-secondary btn-sm" onClick={reset}>
                    Clear filters
                  </button>
                )
              }
            >
              {filtered ? "Try a wider date range or another status." : "Premium upgrades and tips you send will be listed here."}
            </EmptyState>
          )
        ) : (
          <>
            <div className="table-wrap">
              <table className="table" data-testid="payments-table">
                <thead>
                  <tr>
                    <th scope="col">Date</th>
                    <th scope="col">Description</th>
                    <th scope="col" className="num">Amount</th>
                    <th scope="col">Status</th>
                    <th scope="col">Completed</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((p) => (
                    <tr key={p._id} data-testid="payment-row" data-type={p.transaction_type} data-status={displayStatus(p)}>
                      <td className="nowrap">{formatDate(p.created_at)}</td>
                      <td>
                        <div className="tx-title">{describe(p)}</div>
                        <div className="muted small mono" title={p._id}>#{shortId(p._id)}</div>
                      </td>
                      <td className="num">
                        {formatMoney(p.amount, p.currency)}
                        {Number(p.amount_refunded || 0) > 0 && (
                          <div className="muted small" data-testid="refunded-amount">
                            {formatMoney(p.amount_refunded, p.currency)} refunded
                          </div>
                        )}
                      </td>
                      <td><StatusBadge status={displayStatus(p)} /></td>
                      <td className="nowrap muted">{p.completed_at ? formatDate(p.completed_at) : "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="table-foot">
              <span className="muted small">
                Showing {rows.length} payment{rows.length === 1 ? "" : "s"}
              </span>
              {nextBefore ? (
                <button type="button" className="btn btn-secondary" onClick={loadMore} disabled={loadingMore}>
                  {loadingMore && <Spinner size="sm" />} {loadingMore ? "Loading…" : "Load more"}
                </button>
              ) : (
                <span className="muted small">That’s everything.</span>
              )}
            </div>
          </>
        )}
      </section>
    </>
  );
}

export default function PaymentsPage() {
  return (
    <>
      <PageHeader title="Payment history" subtitle="Every premium purchase and tip, with its current status." />
      <Suspense fallback={<PageLoader />}>
        <PaymentHistory />
      </Suspense>
    </>
  );
}
