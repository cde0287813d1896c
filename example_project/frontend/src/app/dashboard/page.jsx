"use client";

import Link from "next/link";
import { useEffect, useState } from "react";
import { paymentAPI } from "@/lib/api";
import { formatMoney } from "@/lib/money";
import { timeAgo } from "@/lib/format";
import { paidTotals } from "@/lib/status";
import { useSession } from "@/components/DashboardShell";
import { Badge, EmptyState, ErrorAlert, PageHeader, Spinner } from "@/components/ui";

// The most tips one history request returns: the counts below are of paid tips
// among them ("100+" past that).
const TIPS_COUNTED = 100;

function paidCount(items, total) {
  const { count } = paidTotals(items);
  return typeof total === "number" && total > (items?.length ?? 0) ? `${count}+` : count;
}

export default function OverviewPage() {
  const { user, notifications, refreshNotifications } = useSession();
  const [status, setStatus] = useState(null);
  const [tips, setTips] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    let live = true;
    Promise.all([paymentAPI.getSubscriptionStatus(), paymentAPI.getTipHistory({ limit: TIPS_COUNTED })])
      .then(([s, t]) => {
        if (!live) return;
        setStatus(s);
        setTips(t);
      })
      .catch((err) => live && setError(err));
    refreshNotifications();
    return () => {
      live = false;
    };
  }, [refreshNotifications]);

  return (
    <>
      <PageHeader
        title={`Hi${user?.username ? `, ${user.username}` : ""}`}
        subtitle="Your plan, your tips and what happened recently."
      />
      {error && <ErrorAlert title={error.message}>{error.detail}</ErrorAlert>}

      <div className="grid grid-3">
        <section className="card stat-card">
          <div className="stat-label">Plan</div>
          {status ? (
            <>
              <div className="stat-value">
                {status.is_premium ? "Premium" : "Free"}{" "}
                <Badge tone={status.is_premium ? "premium" : "neutral"}>
                  {status.is_premium ? "Active" : "Basic"}
                </Badge>
              </div>
              <Link href="/dashboard/subscription/" className="stat-link">
                {status.is_premium ? "Manage Premium →" : "Upgrade for $9.99 →"}
              </Link>
            </>
          ) : (
            !error && <Spinner size="sm" />
          )}
        </section>
        <section className="card stat-card">
          <div className="stat-label">Tips sent</div>
          {tips ? (
            <>
              <div className="stat-value" data-testid="tips-sent-count">{paidCount(tips.tips_sent, tips.total_sent)}</div>
              <Link href="/dashboard/tips/" className="stat-link">Send a tip →</Link>
            </>
          ) : (
            !error && <Spinner size="sm" />
          )}
        </section>
        <section className="card stat-card">
          <div className="stat-label">Tips received</div>
          {tips ? (
            <>
              <div className="stat-value" data-testid="tips-received-count">
                {paidCount(tips.tips_received, tips.total_received)}
              </div>
              {/* Payment history lists what you paid; received tips are on the Tips page. */}
              <Link href="/dashboard/tips/#received" className="stat-link">See tips received →</Link>
            </>
          ) : (
            !error && <Spinner size="sm" />
          )}
        </section>
      </div>

      <section className="card">
        <div className="card-head">
          <h2>Recent activity</h2>
          <button type="button" className="btn btn-ghost btn-sm" onClick={refreshNotifications}>
            Refresh
          </button>
        </div>
        {notifications.length === 0 ? (
          <EmptyState icon="🔔" title="No activity yet">
            When a payment completes, the site records a notification and it appears here.
          </EmptyState>
        ) : (
          <ul className="activity" data-testid="notifications">
            {notifications.map((n) => (
              <li key={n.id} className="activity-item">
                <span className={`notif-dot kind-${n.kind}`} aria-hidden="true" />
                <div className="activity-text">{n.text}</div>
                <div className="activity-time muted">{timeAgo(n.created_at)}</div>
              </li>
            ))}
          </ul>
        )}
      </section>
      {tips?.tips_received?.length > 0 && (
        <p className="muted small">
          Latest tip received: {formatMoney(tips.tips_received[0].amount, tips.tips_received[0].currency)}{" "}
          {timeAgo(tips.tips_received[0].created_at)}.
        </p>
      )}
    </>
  );
}
