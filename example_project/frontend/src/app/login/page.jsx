"use client";

import { Suspense, useEffect, useState } from "react";
import { useRouter, useSearchParams } from "next/navigation";
import { authAPI } from "@/lib/api";
import { isLoggedIn, safeNextPath } from "@/lib/auth";
import { ErrorAlert, PageLoader, Spinner } from "@/components/ui";

function LoginForm() {
  const router = useRouter();
  const params = useSearchParams();
  const next = safeNextPath(params.get("next"));
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  useEffect(() => {
    if (isLoggedIn()) router.replace(next);
  }, [router, next]);

  async function onSubmit(e) {
    e.preventDefault();
    if (!username.trim() || !password) {
      setError({ message: "Enter your username and password." });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await authAPI.login(username.trim(), password);
      await authAPI.me().catch(() => null);
      router.replace(next);
    } catch (err) {
      // Shown in the form only: a toast would repeat it and outlive a later successful login.
      setError(err);
      setBusy(false);
    }
  }

  return (
    <form className="card auth-card" onSubmit={onSubmit} noValidate>
      <div className="auth-brand">
        <span className="logo-mark" aria-hidden="true">S</span>
        <span className="logo-text">SkillSwap</span>
      </div>
      <h1>Welcome back</h1>
      <p className="muted">Log in to manage Premium and send tips.</p>

      {error && <ErrorAlert title={error.message}>{error.detail}</ErrorAlert>}

      <div className="field">
        <label htmlFor="username">Username</label>
        <input
          id="username"
          name="username"
          autoComplete="username"
          autoFocus
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          disabled={busy}
        />
      </div>
      <div className="field">
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          disabled={busy}
        />
      </div>
      <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
        {busy ? <Spinner size="sm" label="Logging in" /> : null}
        {busy ? "Logging in…" : "Log in"}
      </button>
      <p className="hint">
        Demo accounts are printed in the console when the demo starts.
      </p>
    </form>
  );
}

export default function LoginPage() {
  return (
    <main className="auth-screen">
      <Suspense fallback={<PageLoader />}>
        <LoginForm />
      </Suspense>
    </main>
  );
}
