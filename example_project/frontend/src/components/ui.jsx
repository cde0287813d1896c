"use client";

// Small presentational building blocks shared by the pages.

export function Spinner({ size = "md", label = "Loading" }) {
  return <span className={`spinner spinner-${size}`} role="status" aria-label={label} />;
}

export function PageLoader({ label = "Loading…" }) {
  return (
    <div className="page-loader">
      <Spinner size="lg" label={label} />
      <p className="muted">{label}</p>
    </div>
  );
}

const STATUS_TONES = {
  completed: "success",
  active: "success",
  premium: "premium",
  pending: "warning",
  failed: "danger",
  refunded: "neutral",
  expired: "neutral",
  none: "neutral",
  free: "neutral",
};

export function Badge({ tone = "neutral", className = "", children, ...rest }) {
  return (
    <span className={`badge badge-${tone} ${className}`.trim()} {...rest}>
      {children}
    </span>
  );
}

export function StatusBadge({ status, ...rest }) {
  const s = String(status || "unknown").toLowerCase();
  return (
    <Badge tone={STATUS_TONES[s] || "neutral"} data-status={s} {...rest}>
      {s.charAt(0).toUpperCase() + s.slice(1)}
    </Badge>
  );
}

export function ErrorAlert({ title, children, action }) {
  return (
    <div className="alert alert-error" role="alert" data-testid="error">
      <div className="alert-icon" aria-hidden="true">!</div>
      <div className="alert-body">
        {title && <div className="alert-title">{title}</div>}
        {children && <div className="alert-text">{children}</div>}
        {action && <div className="alert-action">{action}</div>}
      </div>
    </div>
  );
}

export function EmptyState({ icon = "○", title, children, action }) {
  return (
    <div className="empty">
      <div className="empty-icon" aria-hidden="true">{icon}</div>
      <div className="empty-title">{title}</div>
      {children && <p className="muted">{children}</p>}
      {action}
    </div>
  );
}

export function PageHeader({ title, subtitle, actions }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p className="muted">{subtitle}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </header>
  );
}
