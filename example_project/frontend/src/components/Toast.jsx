"use client";

import { useCallback, useEffect, useState } from "react";

// A tiny toast system: `toast()` can be called from anywhere (event handlers,
// API callers); the single <Toaster/> in the root layout renders the stack.
const listeners = new Set();
let nextId = 1;

export function toast({ title, description = null, variant = "info", duration } = {}) {
  const item = {
    id: nextId++,
    title: title || (variant === "error" ? "Something went wrong" : ""),
    description,
    variant,
    duration: duration ?? (variant === "error" ? 7000 : 4500),
  };
  listeners.forEach((fn) => fn(item));
  return item.id;
}

// Shows an API error ({error, message} from the server) as a toast.
export function toastError(err, fallback = "Something went wrong") {
  return toast({
    variant: "error",
    title: err?.message || fallback,
    description: err?.detail || null,
  });
}

export function Toaster() {
  const [items, setItems] = useState([]);

  const dismiss = useCallback((id) => setItems((list) => list.filter((t) => t.id !== id)), []);

  useEffect(() => {
    const add = (item) => {
      setItems((list) => [...list.slice(-3), item]);
      if (item.duration > 0) setTimeout(() => dismiss(item.id), item.duration);
    };
    listeners.add(add);
    return () => listeners.delete(add);
  }, [dismiss]);

  return (
    <div className="toaster" aria-live="polite">
      {items.map((t) => (
        <div
          key={t.id}
          className={`toast toast-${t.variant}`}
          role={t.variant === "error" ? "alert" : "status"}
          data-testid="toast"
          data-variant={t.variant}
        >
          <span className="toast-icon" aria-hidden="true">
            {t.variant === "error" ? "!" : t.variant === "success" ? "✓" : "i"}
          </span>
          <div className="toast-body">
            {t.title && <div className="toast-title">{t.title}</div>}
            {t.description && <div className="toast-desc">{t.description}</div>}
          </div>
          <button
            type="button"
            className="toast-close"
            aria-label="Dismiss notification"
            onClick={() => dismiss(t.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
