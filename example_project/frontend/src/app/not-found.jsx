import Link from "next/link";

export const metadata = { title: "Page not found" };

export default function NotFound() {
  return (
    <main className="center-screen">
      <div className="card narrow text-center">
        <div className="result-icon result-neutral" aria-hidden="true">?</div>
        <h1>Page not found</h1>
        <p className="muted">The page you are looking for does not exist or has moved.</p>
        <div className="button-row center">
          <Link className="btn btn-primary" href="/dashboard/">
            Back to dashboard
          </Link>
        </div>
      </div>
    </main>
  );
}
